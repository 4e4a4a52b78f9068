"""Inclusion criteria about the disease, the child and immunity."""

from __future__ import annotations

from domain.wording import Figures, joined, said_as, term

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from domain.context import Context, add_years
from domain.criteria.base import (
    ForAttestation,
    attestation_decides,
    criterion,
    earliest,
    fails,
    passes,
    review,
    unknown,
)
from domain.criteria.passive import passive_antibodies_before
from domain.facts import Assessment, LabResult, Qualitative
from domain.thresholds import below_in_words
from domain.verdicts import Finding, Kind, Verdict


@criterion("INC-AGE", Kind.INCLUSION)
def aged_3_to_18(ctx: Context) -> Finding:
    """"Patient aged 3-18 years with new-onset juvenile dermatomyositis"

    Age in completed years at ``as_of``; passes from the 3rd birthday to the day before the 19th
    (``age.rule: inclusive``), or before the 18th (``exclusive``): that day is its ``passes_until``.
    """
    profile = ctx.profile
    if profile is None or profile.birth_date is None:
        return unknown(said_as("No birth date recorded"))
    rule = ctx.protocol.age
    born = profile.birth_date
    first_day = add_years(born, rule.minimum_years)
    last_birthday = rule.maximum_years + 1 if rule.rule == "inclusive" else rule.maximum_years
    too_old_on = add_years(born, last_birthday)
    age = ctx.age()
    patient = _Cited(f"Patient/{ctx.record.patient}")
    if ctx.as_of < first_day:
        return fails(
            lambda: said_as('Aged {age}: turns {minimum_years} on {first_day}', age=age, minimum_years=rule.minimum_years, first_day=first_day), patient, until=first_day
        )
    if ctx.as_of >= too_old_on:
        return fails(lambda: said_as('Aged {age}: {last_birthday} or older since {too_old_on}', age=age, last_birthday=last_birthday, too_old_on=too_old_on), patient)
    # The reason keeps the birth date's neighbours out (it travels into alerts); the date is the field's.
    return passes(
        lambda: said_as('Aged {age}, within {minimum_years}-{maximum_years} years', age=age, minimum_years=rule.minimum_years, maximum_years=rule.maximum_years),
        patient,
        changes_on=too_old_on,
        passes_until=too_old_on - timedelta(days=1),
    )


class _Cited(NamedTuple):
    """A resource cited without a date: the birth date INC-AGE reads is an identifier, so the evidence
    names the Patient that holds it rather than repeating it."""

    source: str
    on: date | None = None


@criterion("INC-JDM-ENMC2018", Kind.INCLUSION, attested=True)
def new_onset_jdm_by_enmc_2018(ctx: Context) -> Finding | ForAttestation:
    """"with new-onset juvenile dermatomyositis, according to the ENMC 2018 dermatomyositis classification criteria"

    Classifying by ENMC 2018 and judging "new-onset" are the investigator's to attest; a recorded JDM
    diagnosis is shown as evidence beside the attestation but decides nothing on its own.
    """
    return attestation_decides(None, ctx.latest("dx.jdm"))


@criterion("INC-WEAKNESS", Kind.INCLUSION)
def muscle_weakness(ctx: Context) -> Finding:
    """"Muscle weakness at MMT and/or CMAS (MMT < 74 and/or CMAS < 45)"

    The latest MMT8 (0-80) and CMAS (0-52) within ``validity.muscle_score``: either below its threshold
    passes; both known and neither below fails. A score outside its scale is unknown, a score whose
    comparator allows values on both sides of its threshold needs review (contract §1.1), and an MMT8
    on the bilateral 0-150 scale, to which 74 does not apply, needs review when no 0-80 total is at hand.
    """
    limits = ctx.protocol.thresholds
    mmt8 = _muscle_score(ctx, "assessment.mmt8", "MMT8", limits.mmt8_below, limits.mmt8_maximum)
    cmas = _muscle_score(ctx, "assessment.cmas", "CMAS", limits.cmas_below, limits.cmas_maximum)
    scores = (mmt8, cmas)
    weak = [s for s in scores if s.state == "below"]
    if weak:
        return passes(
            lambda: joined(s.text for s in weak),
            *(s.fact for s in weak),
            changes_on=max(s.stale_on for s in weak),  # type: ignore[type-var]
        )
    odd = [s for s in scores if s.state == "out of range"]
    if odd:
        return unknown(lambda: joined(s.text for s in odd), *(s.fact for s in odd))
    open_ = [s for s in scores if s.state == "open"]
    if open_:
        return review(
            lambda: joined(s.text for s in open_),
            *(s.fact for s in scores if s.fact),
            changes_on=earliest(*(s.stale_on for s in open_)),
        )
    if mmt8.state == "missing":
        bilateral = _fresh_score(ctx, "assessment.mmt8_bilateral")
        if bilateral is not None:
            return review(
                lambda: (said_as('MMT8 {score} on {on} is on the bilateral 0-150 scale; the threshold of {mmt8_below} applies to the 0-80 total', score=Figures(f'{bilateral.score:g}'), on=bilateral.on, mmt8_below=Figures(f'{limits.mmt8_below:g}'))),
                bilateral,
                *([cmas.fact] if cmas.fact else []),
            )
    if mmt8.state == "not below" and cmas.state == "not below":
        return fails(
            lambda: said_as('{text}; {text2}', text=mmt8.text, text2=cmas.text),
            mmt8.fact,
            cmas.fact,
            changes_on=earliest(mmt8.stale_on, cmas.stale_on),
        )
    return unknown(lambda: joined(s.text for s in scores), *(s.fact for s in scores if s.fact))


@dataclass(frozen=True, slots=True)
class _Score:
    """One scale's latest usable score: ``below``, ``not below``, ``open`` (a comparator allowing
    both), ``out of range`` or ``missing``."""

    state: str
    text: str
    fact: Assessment | None = None
    stale_on: date | None = None


def _fresh_score(ctx: Context, code_list: str) -> Assessment | None:
    latest = next((a for a in ctx.all(code_list) if a.score is not None), None)
    if latest is None or not ctx.fresh(latest.on, ctx.protocol.validity.muscle_score):
        return None
    return latest


def _muscle_score(ctx: Context, code_list: str, label: str, limit: float, maximum: float) -> _Score:
    validity = ctx.protocol.validity.muscle_score
    latest = next((a for a in ctx.all(code_list) if a.score is not None), None)
    if latest is None:
        return _Score("missing", said_as('No {label} score', label=term(label)))
    day = latest.on
    if not ctx.fresh(latest.on, validity):
        return _Score("missing", said_as('The latest {label} ({day}) is stale: older than {validity} days', label=term(label), day=day, validity=validity))
    value: float = latest.score  # type: ignore[assignment]
    comparator = latest.comparator
    shown = said_as('{label} {value}{value2} on {day}', label=term(label), value=comparator or '', value2=Figures(f'{value:g}'), day=day)
    if not 0 <= value <= maximum:
        return _Score("out of range", said_as('{shown} is outside the 0-{maximum} scale', shown=shown, maximum=Figures(f'{maximum:g}')), latest)
    stale_on = ctx.stale_on(latest.on, validity)
    decided, words = below_in_words(value, comparator, limit, f'{limit:g}', f'{value:g}')
    if decided is True:
        return _Score("below", said_as('{shown}, {words}', shown=shown, words=words), latest, stale_on)
    if decided is False:
        return _Score("not below", said_as('{shown}, {words}', shown=shown, words=words), latest, stale_on)
    return _Score("open", said_as('{shown} {words}: check the exact score', shown=shown, words=words), latest, stale_on)


@criterion("INC-VZV-SERO", Kind.INCLUSION)
def seropositive_for_chickenpox(ctx: Context) -> Finding:
    """"Seropositivity for chickenpox"

    The latest VZV IgG by the lab's answer: positive passes and never goes stale, unless passive
    antibodies (IVIG, blood products) may explain it (``domain/criteria/passive.py``, the one reading
    of every serology); negative fails while within ``validity.vzv_negative``, then is unknown, even after an older
    positive, which the reason then names as no longer counting (contract §1.1); equivocal, or a value
    without the lab's answer (assay cut-offs differ), needs review. With
    ``accept_documented_varicella_vaccination``, a recorded varicella vaccination passes too.
    """
    found = _vzv_serology(ctx)
    if found.verdict is Verdict.PASS or not ctx.protocol.choices.accept_documented_varicella_vaccination:
        return found
    vaccination = ctx.latest("vax.varicella")
    if vaccination is None:
        return found
    return passes(lambda: said_as('Varicella vaccination on {on}', on=vaccination.on), vaccination)


def _vzv_serology(ctx: Context) -> Finding:
    result: LabResult | None = ctx.latest("lab.vzv_igg")
    if result is None:
        return unknown(said_as("No VZV IgG result"))
    validity = ctx.protocol.validity
    day = result.on
    answer = result.qualitative
    if answer is Qualitative.POSITIVE:
        if not ctx.fresh(result.on, validity.vzv_positive):
            return unknown(
                lambda: said_as('The positive VZV IgG of {day} is older than {vzv_positive} days', day=day, vzv_positive=validity.vzv_positive), result
            )
        passive = passive_antibodies_before(ctx, result.on)
        if passive is not None:
            return review(
                lambda: (said_as('VZV IgG positive on {day}, but passive antibodies ({codes}) were given on {last_day}, {days} days before the sample: they may explain the result', day=day, codes=passive.exposure.codes[0], last_day=passive.last_day, days=passive.days_before(result.on))),
                result,
                passive.exposure,
            )
        stale_on = ctx.stale_on(result.on, validity.vzv_positive)
        return passes(lambda: said_as('VZV IgG positive on {day}', day=day), result, changes_on=stale_on)
    if answer is Qualitative.NEGATIVE:
        overridden = _earlier_positive(ctx, result)
        superseded = (
            said_as('; the positive VZV IgG of {on} no longer counts, since a later result is negative', on=overridden.on)
            if overridden is not None
            else ""
        )
        if not ctx.fresh(result.on, validity.vzv_negative):
            return unknown(
                lambda: (said_as('The negative VZV IgG of {day} is stale: older than {vzv_negative} days{superseded}; a new test decides', day=day, vzv_negative=validity.vzv_negative, superseded=superseded)),
                result,
                overridden,
            )
        stale_on = ctx.stale_on(result.on, validity.vzv_negative)
        return fails(lambda: said_as('VZV IgG negative on {day}{superseded}', day=day, superseded=superseded), result, overridden, changes_on=stale_on)
    if answer is Qualitative.EQUIVOCAL:
        return review(lambda: said_as('VZV IgG equivocal on {day}', day=day), result)
    if result.quantity is not None:
        return review(
            lambda: (said_as("VZV IgG {quantity} on {day} has no positive or negative interpretation: read it against the assay's cut-off", quantity=result.quantity, day=day)),
            result,
        )
    return unknown(lambda: said_as('The VZV IgG of {day} carries no value', day=day), result)


def _earlier_positive(ctx: Context, negative: LabResult) -> LabResult | None:
    """The newest positive VZV IgG before ``negative``, which that negative overrides (contract §1.1)."""
    for result in ctx.all("lab.vzv_igg"):
        if result is not negative and result.qualitative is Qualitative.POSITIVE:
            return result
    return None
