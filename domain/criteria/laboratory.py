"""Exclusions decided by laboratory results: CMV, blood counts, antiphospholipids (EXC-CRCL: kidney.py)."""

from __future__ import annotations

from domain.wording import Figures, joined, said_as, term

from dataclasses import dataclass, field
from datetime import date

from domain.context import Context
from domain.criteria.base import criterion, earliest, fails, passes, review, unknown
from domain.criteria.infections import (
    BELOW_LLOQ,
    NEGATIVE,
    POSITIVE,
    UNREADABLE,
    nucleic_acid,
    sentence,
    serology,
)
from domain.criteria.readings import Reading, against_limit, described, latest_result, shown_number
from domain.facts import LabResult, Qualitative
from domain.thresholds import FROM, UP_TO, above, allowed
from domain.ucum import unit_named
from domain.units import convert
from domain.verdicts import Finding, Kind

COUNT_UNIT = "×10⁹/L"


@criterion("EXC-CMV-PCR", Kind.EXCLUSION)
def positive_blood_cmv_pcr(ctx: Context) -> Finding:
    """"Positive blood CMV PCR"

    The newest blood CMV PCR (``lab.cmv_blood``) within ``validity.cmv_pcr`` days decides: any
    detection fails, "detected below the limit of quantification" per ``choices.cmv_detected_below_lloq``,
    not detected passes. Other specimens never count: if one is all there is, a person checks it.
    """
    validity = ctx.protocol.validity.cmv_pcr
    pcr = latest_result(ctx, "lab.cmv_blood", "blood CMV PCR", validity)
    result = pcr.usable
    if result is None:
        other = latest_result(ctx, "lab.cmv_other_specimen", "CMV PCR", validity).usable
        if other is not None:
            return review(
                lambda: (said_as('The only recent CMV PCR ({on}, {codes}) is not on a blood specimen: check the specimen, or test blood', on=other.on, codes=other.codes[0])),
                other,
                changes_on=ctx.stale_on(other.on, validity),
            )
        return unknown(lambda: sentence(pcr.missing()), pcr.result)
    reading = nucleic_acid(result)
    shown = said_as('Blood CMV PCR {described} on {on}', described=described(result), on=result.on)
    if reading == POSITIVE:
        return fails(lambda: said_as('{shown}: CMV DNA detected', shown=shown), result, changes_on=pcr.stale_on)
    if reading == BELOW_LLOQ:
        text = said_as('{shown}: CMV DNA detected below the limit of quantification', shown=shown)
        if ctx.protocol.choices.cmv_detected_below_lloq == "fail":
            return fails(text, result, changes_on=pcr.stale_on)
        return review(text, result, changes_on=pcr.stale_on)
    if reading == NEGATIVE:
        return passes(lambda: said_as('{shown}: not detected', shown=shown), result, changes_on=pcr.stale_on)
    return review(lambda: said_as('{shown}: {reading}', shown=shown, reading=term(reading)), result, changes_on=pcr.stale_on)



@criterion("EXC-ALC", Kind.EXCLUSION)
def low_lymphocytes(ctx: Context) -> Finding:
    """"Lymphocytes < 0,5x109 cell/L"

    Either cytopenia excludes on its own (catalogue §6(a)). The newest absolute count within
    ``validity.blood_count`` days, or a newer percentage times a leukocyte count from the same sample.
    """
    return _cytopenia(
        ctx,
        "Lymphocytes",
        "lab.lymphocytes",
        "lab.lymphocytes_pct",
        ctx.protocol.thresholds.lymphocytes_below_10e9_l,
    )


@criterion("EXC-ANC", Kind.EXCLUSION)
def low_neutrophils(ctx: Context) -> Finding:
    """"Neutrophils < 1x109 cell/L"

    Either cytopenia excludes on its own (catalogue §6(a)). The newest absolute count within
    ``validity.blood_count`` days, or a newer percentage times a leukocyte count from the same sample.
    """
    return _cytopenia(
        ctx,
        "Neutrophils",
        "lab.neutrophils",
        "lab.neutrophils_pct",
        ctx.protocol.thresholds.neutrophils_below_10e9_l,
    )


def _cytopenia(ctx: Context, label: str, absolute_list: str, percent_list: str, limit: float) -> Finding:
    validity = ctx.protocol.validity.blood_count
    absolute: LabResult | None = ctx.latest(absolute_list)
    unpaired: LabResult | None = None
    for percent in ctx.all(percent_list):
        if (absolute is not None and percent.on <= absolute.on) or not ctx.fresh(percent.on, validity):
            break
        wbc = _same_sample(ctx, percent)
        if wbc is not None:
            return _derived_count(ctx, label, percent, wbc, limit)
        unpaired = unpaired or percent
    if absolute is not None and ctx.fresh(absolute.on, validity):
        return _absolute_count(ctx, label, absolute, limit)
    if unpaired is not None:
        return unknown(
            lambda: (said_as('{label} {value} on {on} but no leukocyte count from the same sample', label=term(label), value=unpaired.quantity or term('percentage'), on=unpaired.on)),
            unpaired,
        )
    if absolute is not None:
        return unknown(
            lambda: (said_as('The latest {cells} count ({on}) is older than {days} days', cells=term(label.lower()[:-1]), on=absolute.on, days=validity)),
            absolute,
        )
    return unknown(lambda: said_as('No {cells} count', cells=term(label.lower()[:-1])))


def _same_sample(ctx: Context, percent: LabResult) -> LabResult | None:
    """The leukocyte count from the sample a differential percentage was measured on."""
    for wbc in ctx.all("lab.leukocytes"):
        if wbc.on < percent.on:
            break
        if percent.sample is not None and wbc.sample is not None:
            if wbc.sample == percent.sample:
                return wbc
        elif wbc.on == percent.on and wbc.seq == percent.seq:
            return wbc
    return None


def _absolute_count(ctx: Context, label: str, result: LabResult, limit: float) -> Finding:
    quantity = result.quantity
    day = result.on
    if quantity is None:
        return unknown(lambda: said_as('The {cells} count of {day} carries no number', cells=term(label.lower()[:-1]), day=day), result)
    value = convert(quantity, "cell_count")
    if value is None:
        return unknown(
            lambda: (said_as('The {cells} count of {day} is in {unit}, which cannot be converted to {canonical}', cells=term(label.lower()[:-1]), day=day, unit=unit_named(quantity.unit), canonical=COUNT_UNIT)),
            result,
        )
    shown = said_as('{label} {quantity}', label=term(label), quantity=quantity)
    if quantity.value != value:
        shown = said_as('{label} {quantity} ({converted})', label=term(label), quantity=quantity,
                        converted=Figures(f"{quantity.comparator or ''}{shown_number(value)} {COUNT_UNIT}"))
    stale_on = ctx.stale_on(result.on, ctx.protocol.validity.blood_count)
    return against_limit(
        said_as('{shown} on {day}', shown=shown, day=day), value, quantity.comparator, limit, COUNT_UNIT, (result,), stale_on
    )


def _derived_count(ctx: Context, label: str, percent: LabResult, wbc: LabResult, limit: float) -> Finding:
    facts = (percent, wbc)
    p, w = percent.quantity, wbc.quantity
    if p is None or w is None:
        return unknown(
            lambda: (said_as('The {cells} percentage or leukocyte count of {on} carries no number', cells=term(label.lower()[:-1]), on=percent.on)),
            *facts,
        )
    share = convert(p, "percent")
    if share is None:
        return unknown(
            lambda: (said_as('The {cells} percentage of {on} is in {unit}, which cannot be converted to %', cells=term(label.lower()[:-1]), on=percent.on, unit=unit_named(p.unit))),
            *facts,
        )
    count = convert(w, "cell_count")
    if count is None:
        return unknown(
            lambda: (said_as('The leukocyte count of {on} is in {unit}, which cannot be converted to {canonical}', on=wbc.on, unit=unit_named(w.unit), canonical=COUNT_UNIT)),
            *facts,
        )
    value = round(share * count / 100, 6)
    comparator = _combined(p.comparator, w.comparator)
    validity = ctx.protocol.validity.blood_count
    stale_on = earliest(ctx.stale_on(percent.on, validity), ctx.stale_on(wbc.on, validity))
    shown = (
        said_as('{label} {count} ({share} of leukocytes {leukocytes}) on {on}', label=term(label), count=Figures(f'{_bound(comparator)}{shown_number(value)} {COUNT_UNIT}'), share=p, leukocytes=w, on=percent.on)
    )
    return against_limit(shown, value, comparator, limit, COUNT_UNIT, facts, stale_on)


def _bound(comparator: str | None) -> str:
    """A comparator as shown before a number; ``?`` (no single direction) is left to the reason."""
    return comparator if comparator in UP_TO + FROM else ""  # type: ignore[return-value]


def _combined(first: str | None, second: str | None) -> str | None:
    """The comparator of a product of two results; ``?`` when they bound it in opposite directions."""
    if not first or not second:
        return first or second
    if (first in UP_TO) == (second in UP_TO):
        return first
    return "?"


@criterion("EXC-HB", Kind.EXCLUSION)
def low_haemoglobin(ctx: Context) -> Finding:
    """"Hemoglobin < 8 g/dL"

    The latest haemoglobin within its validity, in g/dL (g/L and mmol/L converted).
    """
    validity = ctx.protocol.validity.haemoglobin
    reading = latest_result(ctx, "lab.haemoglobin", "haemoglobin", validity).measured("haemoglobin")
    if not isinstance(reading, Reading):
        return reading
    hb = reading.result
    if reading.value is None:
        return unknown(lambda: said_as('The haemoglobin of {on} carries no number', on=hb.on), hb)
    limit = ctx.protocol.thresholds.haemoglobin_below_g_dl
    quantity = hb.quantity
    shown = said_as('Haemoglobin {quantity}', quantity=quantity)
    if quantity.value != reading.value:
        shown = said_as('Haemoglobin {quantity} ({converted})', quantity=quantity, converted=reading.shown('g/dL'))
    return against_limit(
        said_as('{shown} on {on}', shown=shown, on=hb.on),
        reading.value,
        reading.comparator,
        limit,
        "g/dL",
        (hb,),
        reading.stale_on,
    )


_APL_TESTS = (
    ("lab.lupus_anticoagulant", "lupus anticoagulant"),
    ("lab.anticardiolipin", "anticardiolipin"),
    ("lab.anti_b2gp1", "anti-β2-glycoprotein 1"),
)


@criterion("EXC-APL", Kind.EXCLUSION)
def antiphospholipid_antibodies(ctx: Context) -> Finding:
    """"Positivity for antiphospholipids antibodies (Lupus anticoagulant and/or anti-beta2 glycoprotein 1 and/or anti-cardiolipin)"

    Any of the three positive by the lab's cut-off within ``validity.antiphospholipid`` days fails,
    IgG and IgM each by their newest result. Equivocal results, values without the lab's reading and
    a lupus anticoagulant sampled under anticoagulation need review; all three negative pass.
    """
    found = _apl_readings(ctx)
    if found.positive:
        results = [r for _, r in found.positive]
        return fails(
            lambda: joined(said_as('{result}: positive', result=_apl_shown(label, r)) for label, r in found.positive),
            *results,
            changes_on=_apl_stale(ctx, results),
        )
    if found.doubtful:
        reason = joined(said_as('{result}: {why}', result=_apl_shown(label, r), why=why) for label, r, why in found.doubtful)
        if found.missing:
            reason = said_as("{reason}; also {missing}", reason=reason, missing=joined(found.missing, ", "))
        results = [r for _, r, _ in found.doubtful]
        return review(reason, *results, changes_on=_apl_stale(ctx, results))
    if found.missing:
        return unknown(lambda: said_as("Needs all three antiphospholipid tests: {missing}",
                                       missing=joined(found.missing, ", ")),
                       *found.negatives)
    oldest_negative = min([ctx.as_of, *(r.on for r in found.negatives)])
    return passes(
        lambda: (said_as('Lupus anticoagulant, anticardiolipin and anti-β2-glycoprotein 1 negative, the oldest on {on}', on=oldest_negative)),
        *found.negatives,
        changes_on=ctx.stale_on(oldest_negative, ctx.protocol.validity.antiphospholipid),
    )


@dataclass
class _AplReadings:
    """The antiphospholipid results within their validity, sorted by what they say; ``missing``: the
    tests with none."""

    positive: list[tuple[str, LabResult]] = field(default_factory=list)
    doubtful: list[tuple[str, LabResult, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    negatives: list[LabResult] = field(default_factory=list)


def _apl_readings(ctx: Context) -> _AplReadings:
    """Each test's results within ``validity.antiphospholipid`` days, the newest of each analyte (IgG
    and IgM apart), sorted by what they say."""
    validity = ctx.protocol.validity.antiphospholipid
    found = _AplReadings()
    for code_list, label in _APL_TESTS:
        seen: list[str] = []
        for result in ctx.all(code_list):
            if (ctx.as_of - result.on).days > validity:
                break
            analyte = result.codes[0].code if result.codes else ""
            if analyte not in seen:
                seen.append(analyte)
                _sort_apl(ctx, code_list, label, result, found)
        if not seen:
            held = ctx.latest(code_list)
            found.missing.append(
                said_as('no {label} result', label=term(label))
                if held is None
                else said_as('the latest {label} ({on}) is older than {days} days', label=term(label), on=held.on, days=validity)
            )
    return found


def _sort_apl(ctx: Context, code_list: str, label: str, result: LabResult, found: _AplReadings) -> None:
    if result.qualitative is Qualitative.NEGATIVE:
        found.negatives.append(result)
        return
    reading = serology(result)
    if reading == POSITIVE:
        why = _doubtful_positive(ctx, code_list, result)
        if why is None:
            found.positive.append((label, result))
        else:
            found.doubtful.append((label, result, why))
    elif reading == UNREADABLE:
        found.doubtful.append((label, result, said_as("a result in free text only") if result.text else said_as("no value")))
    else:
        found.doubtful.append((label, result, said_as("{reading}; the positivity cut-off is the lab's", reading=reading)))


def _apl_shown(label: str, result: LabResult) -> str:
    analyte = result.codes[0].code if result.codes else "uncoded"
    return said_as('{label} ({analyte}) {described} on {on}', label=term(label), analyte=analyte, described=described(result), on=result.on)


def _apl_stale(ctx: Context, results: list[LabResult]) -> date | None:
    return ctx.stale_on(min(r.on for r in results), ctx.protocol.validity.antiphospholipid)


def _doubtful_positive(ctx: Context, code_list: str, result: LabResult) -> str | None:
    """Why a positive antiphospholipid result needs a person rather than excluding, if it does."""
    if code_list == "lab.lupus_anticoagulant":
        drug = _anticoagulant_on(ctx, result.on)
        if drug is not None:
            drug_code = str(drug.codes[0]).upper()
            return said_as('positive, sampled under anticoagulation ({code} from {on})', code=drug_code, on=drug.on)
        return None
    quantity = result.quantity
    if ctx.protocol.choices.antiphospholipid_low_titre != "review" or quantity is None:
        return None
    low_titre = ctx.protocol.thresholds.antiphospholipid_low_titre_up_to
    medium_or_high = above(quantity.value, quantity.comparator, low_titre)
    if medium_or_high is False:
        return said_as('low-titre positive (up to {limit})', limit=Figures(f'{low_titre:g}'))
    if medium_or_high is None:
        values = allowed(quantity.comparator, shown_number(quantity.value))
        return said_as('positive, perhaps low-titre: the result allows {values}, either side of {limit}', values=values, limit=Figures(f'{low_titre:g}'))
    return None


def _anticoagulant_on(ctx: Context, day: date):
    if "med.anticoagulant" not in ctx.protocol.codesets:
        return None
    for med in ctx.all("med.anticoagulant"):
        if med.on <= day and (med.until is None or med.until >= day):
            return med
    return None
