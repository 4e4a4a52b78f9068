"""Exclusions decided by laboratory results: CMV, kidney, blood counts, antiphospholipids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

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
from domain.criteria.readings import Latest, Reading, described, latest_result
from domain.facts import LabResult, Qualitative
from domain.renal import (
    PLAUSIBLE_HEIGHT_CM,
    PLAUSIBLE_WEIGHT_KG,
    bedside_schwartz,
    implausible_height,
    implausible_weight,
    inverse_comparator,
    mosteller_bsa,
    normalised_clearance,
)
from domain.thresholds import FROM, UP_TO, above, allowed, below_in_words
from domain.ucum import unit_named
from domain.units import convert
from domain.verdicts import Finding, Kind

COUNT_UNIT = "×10⁹/L"
GFR_UNIT = "mL/min/1.73 m²"


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _range(bounds: tuple[float, float], unit: str) -> str:
    return f"{bounds[0]:g} to {bounds[1]:g} {unit} for a child"


def _against_limit(
    shown: str,
    value: float,
    comparator: str | None,
    limit: float,
    unit: str,
    facts: tuple,
    stale_on: date | None,
) -> Finding:
    """Below ``limit`` fails, not below passes; a comparator that allows both needs review (contract §1.1).

    Every laboratory cut-off of the protocol reads "below", so they all decide here: ``<=0.5``
    against "below 0.5" allows 0.5 itself, and the reason says so rather than guessing.
    """
    decided, words = below_in_words(value, comparator, limit, f"{limit:g} {unit}", f"{_number(value)} {unit}")
    if decided is True:
        return fails(lambda: f"{shown}, {words}", *facts, changes_on=stale_on)
    if decided is False:
        return passes(lambda: f"{shown}, {words}", *facts, changes_on=stale_on)
    return review(
        lambda: f"{shown}: the result {words}: check the exact value with the lab", *facts, changes_on=stale_on
    )


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
                lambda: (f"The only recent CMV PCR ({other.on.isoformat()}, {other.codes[0]}) is not "
                "on a blood specimen: check the specimen, or test blood"),
                other,
                changes_on=ctx.stale_on(other.on, validity),
            )
        return unknown(lambda: sentence(pcr.missing()), pcr.result)
    reading = nucleic_acid(result)
    shown = f"Blood CMV PCR {described(result)} on {result.on.isoformat()}"
    if reading == POSITIVE:
        return fails(lambda: f"{shown}: CMV DNA detected", result, changes_on=pcr.stale_on)
    if reading == BELOW_LLOQ:
        text = f"{shown}: CMV DNA detected below the limit of quantification"
        if ctx.protocol.choices.cmv_detected_below_lloq == "fail":
            return fails(text, result, changes_on=pcr.stale_on)
        return review(text, result, changes_on=pcr.stale_on)
    if reading == NEGATIVE:
        return passes(lambda: f"{shown}: not detected", result, changes_on=pcr.stale_on)
    return review(lambda: f"{shown}: {reading}", result, changes_on=pcr.stale_on)


class _Clearance(NamedTuple):
    """A clearance in mL/min/1.73 m², how it was obtained, and what it rests on."""

    value: float
    comparator: str | None
    how: str
    facts: tuple
    stale_on: date | None


@criterion("EXC-CRCL", Kind.EXCLUSION)
def low_creatinine_clearance(ctx: Context) -> Finding:
    """"Creatinine clearance < 40 ml/min"

    Read as mL/min/1.73 m² (catalogue §5). The newest of a measured clearance, a lab-reported
    paediatric eGFR and a creatinine decides; a creatinine gives bedside Schwartz with a height taken
    at most ``windows.height_before_creatinine`` days before it, and wins ties (contract §1).
    """
    protocol = ctx.protocol
    validity = protocol.validity.creatinine
    creatinine = latest_result(ctx, "lab.creatinine", "creatinine", validity)
    measured = latest_result(ctx, "lab.creatinine_clearance", "measured creatinine clearance", validity)
    reported = latest_result(ctx, "lab.egfr_paediatric", "paediatric eGFR", validity)
    inputs = (creatinine, measured, reported)
    newest = max((f.usable.on for f in inputs if f.usable is not None), default=None)
    if newest is None:
        held = [f.missing() for f in inputs if f.result is not None]
        if not held:
            return unknown("No creatinine, measured creatinine clearance or paediatric eGFR")
        return unknown(lambda: "No usable kidney function result: " + "; ".join(held), *(f.result for f in inputs))
    estimate: _Clearance | Finding | None = None
    if creatinine.usable is not None and creatinine.usable.on == newest:
        estimate = _schwartz(ctx, creatinine)
    if not isinstance(estimate, _Clearance):
        for source in (measured, reported):
            if source.usable is not None and source.usable.on == newest:
                estimate = _reported(ctx, source, measured=source is measured)
                break
    if not isinstance(estimate, _Clearance):
        return estimate
    limit = protocol.thresholds.clearance_below_ml_min_173
    shown = _gfr(estimate.value, estimate.comparator, limit)
    return _against_limit(
        f"{estimate.how}: {shown}",
        estimate.value,
        estimate.comparator,
        limit,
        GFR_UNIT,
        estimate.facts,
        estimate.stale_on,
    )


def _gfr(value: float, comparator: str | None, limit: float) -> str:
    """One decimal, unless rounding would put the shown value on the other side of the limit."""
    shown = f"{value:.1f}"
    if (value < limit) != (float(shown) < limit):
        shown = f"{value:.3f}"
    return f"{comparator or ''}{shown} {GFR_UNIT}"


def _schwartz(ctx: Context, creatinine: Latest) -> _Clearance | Finding:
    protocol = ctx.protocol
    result: LabResult = creatinine.usable
    quantity = result.quantity
    day = result.on.isoformat()
    if quantity is None:
        return unknown(lambda: f"The creatinine of {day} carries no value", result)
    mg_dl = convert(quantity, "creatinine")
    if mg_dl is None:
        return unknown(
            lambda: f"The creatinine of {day} is in {unit_named(quantity.unit)}, which cannot be converted to mg/dL", result
        )
    window = protocol.windows.height_before_creatinine
    height = _height_before(ctx, result.on, window)
    if height is None:
        return unknown(lambda: f"Creatinine {quantity} on {day} but no height within {window} days before it", result)
    if not ctx.fresh(height.on, protocol.validity.height):
        return unknown(
            lambda: (f"Creatinine {quantity} on {day} but the height of {height.on.isoformat()} is older than "
            f"{protocol.validity.height} days"),
            result,
            height,
        )
    if height.quantity is None:
        return unknown(lambda: f"The height of {height.on.isoformat()} carries no value", result, height)
    cm = convert(height.quantity, "length")
    if cm is None:
        return unknown(
            lambda: (f"The height of {height.on.isoformat()} is in {unit_named(height.quantity.unit)}, "
            "which cannot be converted to cm"),
            result,
            height,
        )
    if implausible_height(cm):
        return unknown(
            lambda: (f"Creatinine {quantity} on {day} but the height of {height.on.isoformat()}, "
            f"{height.quantity}, is not a plausible height ({_range(PLAUSIBLE_HEIGHT_CM, 'cm')})"),
            result,
            height,
        )
    k = protocol.thresholds.schwartz_k
    value = bedside_schwartz(cm, mg_dl, k)
    if value is None or height.quantity.comparator:
        return unknown(
            lambda: f"Creatinine {quantity} and height {height.quantity} give no bedside Schwartz eGFR",
            result,
            height,
        )
    how = (
        f"eGFR by bedside Schwartz ({k:g} × {_number(cm)} cm / {_number(mg_dl)} mg/dL) from creatinine "
        f"{quantity} on {day} and height {height.quantity} on {height.on.isoformat()}"
    )
    stale_on = earliest(creatinine.stale_on, ctx.stale_on(height.on, protocol.validity.height))
    return _Clearance(value, inverse_comparator(quantity.comparator), how, (result, height), stale_on)


def _height_before(ctx: Context, day: date, window: int) -> LabResult | None:
    """The newest height on ``day`` or at most ``window`` days before it."""
    for height in ctx.all("vital.height"):
        if height.on > day:
            continue
        return height if (day - height.on).days <= window else None
    return None


def _reported(ctx: Context, source: Latest, *, measured: bool) -> _Clearance | Finding:
    result: LabResult = source.usable
    quantity = result.quantity
    day = result.on.isoformat()
    label = source.label
    if quantity is None:
        return unknown(lambda: f"The {label} of {day} carries no value", result)
    value = convert(quantity, "gfr")
    if value is None:
        return unknown(
            lambda: f"The {label} of {day} is in {unit_named(quantity.unit)}, which cannot be converted to {GFR_UNIT}", result
        )
    how = f"{label[0].upper()}{label[1:]} {quantity} on {day}"
    if not measured or quantity.unit.lower().replace(" ", "") != "ml/min":
        return _Clearance(value, quantity.comparator, how, (result,), source.stale_on)
    return _per_body_surface(ctx, source, value, how)


def _per_body_surface(ctx: Context, source: Latest, ml_min: float, how: str) -> _Clearance | Finding:
    """A measured clearance in plain mL/min, normalised with Mosteller's body surface when possible.

    A height or weight in a unit that cannot be converted is unusable (contract §1.1): the clearance
    is not taken as it stands, since that would hide a measurement the record does hold.
    """
    validity = ctx.protocol.validity
    height = latest_result(ctx, "vital.height", "height", validity.height)
    weight = latest_result(ctx, "vital.weight", "weight", validity.weight)
    result = source.usable
    bsa = None
    h, w = height.usable, weight.usable
    if h is not None and w is not None and h.quantity is not None and w.quantity is not None:
        cm = convert(h.quantity, "length")
        kg = convert(w.quantity, "mass")
        for label, fact, value, unit in (("height", h, cm, "cm"), ("weight", w, kg, "kg")):
            if value is None:
                return unknown(
                    lambda: (f"{how}, to normalise to 1.73 m²: the {label} of {fact.on.isoformat()} is in "
                    f"{unit_named(fact.quantity.unit)}, which cannot be converted to {unit}"),
                    result,
                    fact,
                )
        for label, fact, value, implausible, plausible, unit in (
            ("height", h, cm, implausible_height, PLAUSIBLE_HEIGHT_CM, "cm"),
            ("weight", w, kg, implausible_weight, PLAUSIBLE_WEIGHT_KG, "kg"),
        ):
            if implausible(value):
                return unknown(
                    lambda: (f"{how}, to normalise to 1.73 m²: the {label} of {fact.on.isoformat()}, "
                    f"{fact.quantity}, is not a plausible {label} ({_range(plausible, unit)})"),
                    result,
                    fact,
                )
        bsa = mosteller_bsa(cm, kg)  # type: ignore[arg-type]
    comparator = result.quantity.comparator
    if bsa is None:
        return _Clearance(
            ml_min,
            comparator,
            f"{how}, taken as per 1.73 m²: no recent height and weight to normalise it",
            (result,),
            source.stale_on,
        )
    how = (
        f"{how}, normalised to 1.73 m² for a body surface of {bsa:.2f} m² (Mosteller, height "
        f"{h.quantity} on {h.on.isoformat()}, weight {w.quantity} on {w.on.isoformat()})"
    )
    stale_on = earliest(source.stale_on, height.stale_on, weight.stale_on)
    return _Clearance(normalised_clearance(ml_min, bsa), comparator, how, (result, h, w), stale_on)


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
            lambda: (f"{label} {unpaired.quantity or 'percentage'} on {unpaired.on.isoformat()} "
            "but no leukocyte count from the same sample"),
            unpaired,
        )
    if absolute is not None:
        return unknown(
            lambda: (f"The latest {label.lower()[:-1]} count ({absolute.on.isoformat()}) "
            f"is older than {validity} days"),
            absolute,
        )
    return unknown(lambda: f"No {label.lower()[:-1]} count")


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
    day = result.on.isoformat()
    if quantity is None:
        return unknown(lambda: f"The {label.lower()[:-1]} count of {day} carries no number", result)
    value = convert(quantity, "cell_count")
    if value is None:
        return unknown(
            lambda: (f"The {label.lower()[:-1]} count of {day} is in {unit_named(quantity.unit)}, which cannot be converted "
            f"to {COUNT_UNIT}"),
            result,
        )
    shown = f"{label} {quantity}"
    if quantity.value != value:
        shown += f" ({quantity.comparator or ''}{_number(value)} {COUNT_UNIT})"
    stale_on = ctx.stale_on(result.on, ctx.protocol.validity.blood_count)
    return _against_limit(
        f"{shown} on {day}", value, quantity.comparator, limit, COUNT_UNIT, (result,), stale_on
    )


def _derived_count(ctx: Context, label: str, percent: LabResult, wbc: LabResult, limit: float) -> Finding:
    facts = (percent, wbc)
    p, w = percent.quantity, wbc.quantity
    if p is None or w is None:
        return unknown(
            lambda: (f"The {label.lower()[:-1]} percentage or leukocyte count of {percent.on.isoformat()} carries "
            "no number"),
            *facts,
        )
    share = convert(p, "percent")
    if share is None:
        return unknown(
            lambda: (f"The {label.lower()[:-1]} percentage of {percent.on.isoformat()} is in {unit_named(p.unit)}, "
            "which cannot be converted to %"),
            *facts,
        )
    count = convert(w, "cell_count")
    if count is None:
        return unknown(
            lambda: (f"The leukocyte count of {wbc.on.isoformat()} is in {unit_named(w.unit)}, which cannot be "
            f"converted to {COUNT_UNIT}"),
            *facts,
        )
    value = round(share * count / 100, 6)
    comparator = _combined(p.comparator, w.comparator)
    validity = ctx.protocol.validity.blood_count
    stale_on = earliest(ctx.stale_on(percent.on, validity), ctx.stale_on(wbc.on, validity))
    shown = (
        f"{label} {_bound(comparator)}{_number(value)} {COUNT_UNIT} ({p} of leukocytes {w}) "
        f"on {percent.on.isoformat()}"
    )
    return _against_limit(shown, value, comparator, limit, COUNT_UNIT, facts, stale_on)


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
        return unknown(lambda: f"The haemoglobin of {hb.on.isoformat()} carries no number", hb)
    limit = ctx.protocol.thresholds.haemoglobin_below_g_dl
    quantity = hb.quantity
    shown = f"Haemoglobin {quantity}"
    if quantity.value != reading.value:
        shown += f" ({reading.shown('g/dL')})"
    return _against_limit(
        f"{shown} on {hb.on.isoformat()}",
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
            lambda: "; ".join(f"{_apl_shown(label, r)}: positive" for label, r in found.positive),
            *results,
            changes_on=_apl_stale(ctx, results),
        )
    if found.doubtful:
        reason = "; ".join(f"{_apl_shown(label, r)}: {why}" for label, r, why in found.doubtful)
        if found.missing:
            reason += "; also " + ", ".join(found.missing)
        results = [r for _, r, _ in found.doubtful]
        return review(reason, *results, changes_on=_apl_stale(ctx, results))
    if found.missing:
        return unknown(lambda: "Needs all three antiphospholipid tests: " + ", ".join(found.missing),
                       *found.negatives)
    oldest_negative = min([ctx.as_of, *(r.on for r in found.negatives)])
    return passes(
        lambda: (f"Lupus anticoagulant, anticardiolipin and anti-β2-glycoprotein 1 negative, the oldest on "
        f"{oldest_negative.isoformat()}"),
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
                f"no {label} result"
                if held is None
                else f"the latest {label} ({held.on.isoformat()}) is older than {validity} days"
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
        found.doubtful.append((label, result, "a result in free text only" if result.text else "no value"))
    else:
        found.doubtful.append((label, result, f"{reading}; the positivity cut-off is the lab's"))


def _apl_shown(label: str, result: LabResult) -> str:
    analyte = result.codes[0].code if result.codes else "uncoded"
    return f"{label} ({analyte}) {described(result)} on {result.on.isoformat()}"


def _apl_stale(ctx: Context, results: list[LabResult]) -> date | None:
    return ctx.stale_on(min(r.on for r in results), ctx.protocol.validity.antiphospholipid)


def _doubtful_positive(ctx: Context, code_list: str, result: LabResult) -> str | None:
    """Why a positive antiphospholipid result needs a person rather than excluding, if it does."""
    if code_list == "lab.lupus_anticoagulant":
        drug = _anticoagulant_on(ctx, result.on)
        if drug is not None:
            drug_code = str(drug.codes[0]).upper()
            return f"positive, sampled under anticoagulation ({drug_code} from {drug.on.isoformat()})"
        return None
    quantity = result.quantity
    if ctx.protocol.choices.antiphospholipid_low_titre != "review" or quantity is None:
        return None
    low_titre = ctx.protocol.thresholds.antiphospholipid_low_titre_up_to
    medium_or_high = above(quantity.value, quantity.comparator, low_titre)
    if medium_or_high is False:
        return f"low-titre positive (up to {low_titre:g})"
    if medium_or_high is None:
        values = allowed(quantity.comparator, _number(quantity.value))
        return f"positive, perhaps low-titre: the result allows {values}, either side of {low_titre:g}"
    return None


def _anticoagulant_on(ctx: Context, day: date):
    if "med.anticoagulant" not in ctx.protocol.codesets:
        return None
    for med in ctx.all("med.anticoagulant"):
        if med.on <= day and (med.until is None or med.until >= day):
            return med
    return None
