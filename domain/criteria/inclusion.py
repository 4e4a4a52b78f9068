"""Inclusion criteria about the disease, the child and immunity."""

from __future__ import annotations

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
        return unknown("No birth date recorded")
    rule = ctx.protocol.age
    born = profile.birth_date
    first_day = add_years(born, rule.minimum_years)
    last_birthday = rule.maximum_years + 1 if rule.rule == "inclusive" else rule.maximum_years
    too_old_on = add_years(born, last_birthday)
    age = ctx.age()
    patient = _Cited(f"Patient/{ctx.record.patient}")
    if ctx.as_of < first_day:
        return fails(
            lambda: f"Aged {age}: turns {rule.minimum_years} on {first_day.isoformat()}", patient, until=first_day
        )
    if ctx.as_of >= too_old_on:
        return fails(lambda: f"Aged {age}: {last_birthday} or older since {too_old_on.isoformat()}", patient)
    # The reason keeps the birth date's neighbours out (it travels into alerts); the date is the field's.
    return passes(
        lambda: f"Aged {age}, within {rule.minimum_years}-{rule.maximum_years} years",
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
            lambda: "; ".join(s.text for s in weak),
            *(s.fact for s in weak),
            changes_on=max(s.stale_on for s in weak),  # type: ignore[type-var]
        )
    odd = [s for s in scores if s.state == "out of range"]
    if odd:
        return unknown(lambda: "; ".join(s.text for s in odd), *(s.fact for s in odd))
    open_ = [s for s in scores if s.state == "open"]
    if open_:
        return review(
            lambda: "; ".join(s.text for s in open_),
            *(s.fact for s in scores if s.fact),
            changes_on=earliest(*(s.stale_on for s in open_)),
        )
    if mmt8.state == "missing":
        bilateral = _fresh_score(ctx, "assessment.mmt8_bilateral")
        if bilateral is not None:
            return review(
                lambda: (f"MMT8 {bilateral.score:g} on {bilateral.on.isoformat()} is on the bilateral 0-150 scale; "
                f"the threshold of {limits.mmt8_below:g} applies to the 0-80 total"),
                bilateral,
                *([cmas.fact] if cmas.fact else []),
            )
    if mmt8.state == "not below" and cmas.state == "not below":
        return fails(
            lambda: f"{mmt8.text}; {cmas.text}",
            mmt8.fact,
            cmas.fact,
            changes_on=earliest(mmt8.stale_on, cmas.stale_on),
        )
    return unknown(lambda: "; ".join(s.text for s in scores), *(s.fact for s in scores if s.fact))


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
        return _Score("missing", f"No {label} score")
    day = latest.on.isoformat()
    if not ctx.fresh(latest.on, validity):
        return _Score("missing", f"The latest {label} ({day}) is stale: older than {validity} days")
    value: float = latest.score  # type: ignore[assignment]
    comparator = latest.comparator
    shown = f"{label} {comparator or ''}{value:g} on {day}"
    if not 0 <= value <= maximum:
        return _Score("out of range", f"{shown} is outside the 0-{maximum:g} scale", latest)
    stale_on = ctx.stale_on(latest.on, validity)
    decided, words = below_in_words(value, comparator, limit, f"{limit:g}", f"{value:g}")
    if decided is True:
        return _Score("below", f"{shown}, {words}", latest, stale_on)
    if decided is False:
        return _Score("not below", f"{shown}, {words}", latest, stale_on)
    return _Score("open", f"{shown} {words}: check the exact score", latest, stale_on)


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
    return passes(lambda: f"Varicella vaccination on {vaccination.on.isoformat()}", vaccination)


def _vzv_serology(ctx: Context) -> Finding:
    result: LabResult | None = ctx.latest("lab.vzv_igg")
    if result is None:
        return unknown("No VZV IgG result")
    validity = ctx.protocol.validity
    day = result.on.isoformat()
    answer = result.qualitative
    if answer is Qualitative.POSITIVE:
        if not ctx.fresh(result.on, validity.vzv_positive):
            return unknown(
                lambda: f"The positive VZV IgG of {day} is older than {validity.vzv_positive} days", result
            )
        passive = passive_antibodies_before(ctx, result.on)
        if passive is not None:
            return review(
                lambda: (f"VZV IgG positive on {day}, but passive antibodies ({passive.exposure.codes[0]}) "
                f"were given on {passive.last_day.isoformat()}, {passive.days_before(result.on)} days "
                "before the sample: they may explain the result"),
                result,
                passive.exposure,
            )
        stale_on = ctx.stale_on(result.on, validity.vzv_positive)
        return passes(lambda: f"VZV IgG positive on {day}", result, changes_on=stale_on)
    if answer is Qualitative.NEGATIVE:
        overridden = _earlier_positive(ctx, result)
        superseded = (
            f"; the positive VZV IgG of {overridden.on.isoformat()} no longer counts, since a later "
            "result is negative"
            if overridden is not None
            else ""
        )
        if not ctx.fresh(result.on, validity.vzv_negative):
            return unknown(
                lambda: (f"The negative VZV IgG of {day} is stale: older than {validity.vzv_negative} days"
                f"{superseded}; a new test decides"),
                result,
                overridden,
            )
        stale_on = ctx.stale_on(result.on, validity.vzv_negative)
        return fails(lambda: f"VZV IgG negative on {day}{superseded}", result, overridden, changes_on=stale_on)
    if answer is Qualitative.EQUIVOCAL:
        return review(lambda: f"VZV IgG equivocal on {day}", result)
    if result.quantity is not None:
        return review(
            lambda: (f"VZV IgG {result.quantity} on {day} has no positive or negative interpretation: "
            "read it against the assay's cut-off"),
            result,
        )
    return unknown(lambda: f"The VZV IgG of {day} carries no value", result)


def _earlier_positive(ctx: Context, negative: LabResult) -> LabResult | None:
    """The newest positive VZV IgG before ``negative``, which that negative overrides (contract §1.1)."""
    for result in ctx.all("lab.vzv_igg"):
        if result is not negative and result.qualitative is Qualitative.POSITIVE:
            return result
    return None
