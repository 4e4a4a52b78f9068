"""Exclusions by previous treatment: JAK inhibitors, immunosuppressants for JDM, corticosteroids beyond
the exception (their doses in prednisone-equivalent mg/kg/day)."""

from __future__ import annotations

from domain.wording import Figures, said_as, term

from datetime import timedelta

from domain.context import Context
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
from domain.criteria.coded import and_more, combined_finding, days_in_words, matched_code, shown_code, taken
from domain.criteria.readings import Reading, latest_result
from domain.facts import Code, MedicationExposure
from domain.verdicts import Finding, Kind, Verdict

JDM_INDICATIONS = ("dx.jdm", "dx.myositis_indication")


def _jdm_reason(ctx: Context, exposure: MedicationExposure) -> Code | None:
    sets = ctx.protocol.codesets
    for name in JDM_INDICATIONS:
        found = sets[name].matches(exposure.reasons) if name in sets else None
        if found is not None:
            return found
    return None


def _other_indication(ctx: Context, exposure: MedicationExposure) -> bool:
    """Reasons are recorded and none of them is JDM."""
    return bool(exposure.reasons) and _jdm_reason(ctx, exposure) is None


def _reasons_shown(exposure: MedicationExposure) -> str:
    return ", ".join(shown_code(r) for r in exposure.reasons)


@criterion("EXC-PRIOR-JAKI", Kind.EXCLUSION, attested=True)
def previous_jak_inhibitor(ctx: Context) -> Finding | ForAttestation:
    """"Previous treatment with JAK inhibitor"

    Any systemic JAK inhibitor ever (``med.jak_systemic``) excludes. A topical JAK inhibitor or a TYK2
    inhibitor needs review. A medication list cannot prove that none was ever taken, so a pass needs
    the investigator's attestation.
    """
    systemic = taken(ctx, "med.jak_systemic")
    if systemic:
        last = systemic[0]
        return fails(
            lambda: (said_as('Systemic JAK inhibitor ({code}) started {on}{more}', code=matched_code(ctx, 'med.jak_systemic', last), on=last.on, more=and_more(systemic))),
            *systemic,
        )
    signals = [
        review(
            said_as('Topical JAK inhibitor ({code}) started {on}: check whether it counts as previous JAK inhibitor treatment', code=matched_code(ctx, 'med.jak_topical', m), on=m.on),
            m,
        )
        for m in taken(ctx, "med.jak_topical")
    ] + [
        review(
            said_as('TYK2 inhibitor ({code}) started {on}: check whether it counts as a JAK inhibitor', code=matched_code(ctx, 'med.jak_review', m), on=m.on),
            m,
        )
        for m in taken(ctx, "med.jak_review")
    ]
    return attestation_decides(combined_finding(signals))


@criterion("EXC-PRIOR-IS", Kind.EXCLUSION, attested=True)
def previous_immunosuppressant_for_jdm(ctx: Context) -> Finding | ForAttestation:
    """"Previous treatment of JDM with immunosuppressive drugs or biologics other than corticosteroids."

    An immunosuppressant or biologic (``med.immunosuppressant``) whose recorded indication is JDM
    excludes; with no indication recorded it is presumed given for the JDM being screened. One given
    for another indication, an ambiguous agent (IVIG, hydroxychloroquine, topical calcineurin
    inhibitors) or another antineoplastic needs review. Corticosteroids are EXC-PRIOR-CS's business.
    """
    immunosuppressants = taken(ctx, "med.immunosuppressant")
    found: list[Finding] = []
    for m in immunosuppressants:
        code = matched_code(ctx, "med.immunosuppressant", m)
        jdm = _jdm_reason(ctx, m)
        if jdm is not None:
            found.append(fails(said_as('{code} started {on} for JDM ({code2})', code=code, on=m.on, code2=shown_code(jdm)), m))
        elif not m.reasons:
            found.append(
                fails(
                    said_as('{code} started {on} with no indication recorded, presumed given for JDM', code=code, on=m.on),
                    m,
                )
            )
        else:
            found.append(
                review(
                    said_as('{code} started {on} for another indication ({reasons_shown}): check it was not given for JDM', code=code, on=m.on, reasons_shown=_reasons_shown(m)),
                    m,
                )
            )
    for m in taken(ctx, "med.immunosuppressant_ambiguous"):
        found.append(
            review(
                said_as('{code} started {on} (IVIG, hydroxychloroquine or a topical calcineurin inhibitor): check whether it counts as an immunosuppressant given for JDM', code=matched_code(ctx, 'med.immunosuppressant_ambiguous', m), on=m.on),
                m,
            )
        )
    held = {m.source for m in immunosuppressants}
    for m in taken(ctx, "med.antineoplastic"):
        if m.source not in held:
            found.append(
                review(
                    said_as('Antineoplastic {code} started {on}: check whether it was given for JDM', code=matched_code(ctx, 'med.antineoplastic', m), on=m.on),
                    m,
                )
            )
    finding = combined_finding(found)
    if finding is not None and finding.verdict is Verdict.FAIL:
        return Finding(
            finding.verdict,
            lambda: said_as('Immunosuppressant or biologic before inclusion: {reason}', reason=finding.reason),
            finding.evidence,
        )
    return attestation_decides(finding)


@criterion("EXC-PRIOR-CS", Kind.EXCLUSION)
def previous_corticosteroids_beyond_exception(ctx: Context) -> Finding:
    """"Previous treatment with prednisone was allowed if the daily dose was greater than 1 mg/kg for no more than 1 month."

    Decided by the medication list alone (contract §1). No systemic corticosteroid passes. A course
    for JDM (or with no indication recorded) first started more than 31 days before ``as_of``
    excludes. Started within 31 days, every course's daily dose in prednisone-equivalent mg per kg
    of the latest usable weight must be above 1 mg/kg/day; a lower dose needs review (or fails, per
    ``choices.corticosteroid_low_dose_start``). A course for another indication needs review.
    The exception passes until 31 days after the first start (``passes_until``, contract §1.2).
    """
    courses = taken(ctx, "med.corticosteroid_systemic")
    if not courses:
        return passes(said_as("No systemic corticosteroid in the medication list"))
    window = ctx.protocol.windows.prior_corticosteroids
    for_jdm = [c for c in courses if not _other_indication(ctx, c)]
    found = [
        review(
            said_as('Systemic corticosteroid {code} started {on} for another indication ({reasons_shown}): check it', code=matched_code(ctx, 'med.corticosteroid_systemic', c), on=c.on, reasons_shown=_reasons_shown(c)),
            c,
        )
        for c in courses
        if _other_indication(ctx, c)
    ]
    if not for_jdm:
        return combined_finding(found) or passes(said_as("No systemic corticosteroid for JDM in the medication list"))
    first = min(for_jdm, key=lambda c: c.on)
    if not ctx.within(first.on, window):
        return fails(
            lambda: (said_as('Systemic corticosteroid first started {on} ({code}), {days} before, more than {window} days', on=first.on, code=matched_code(ctx, 'med.corticosteroid_systemic', first), days=days_in_words(ctx.days_before(first.on)), window=window)),
            *for_jdm,
        )
    ends = ctx.window_end(first.on, window)
    doses, weight, lowest = _dose_findings(ctx, for_jdm)
    found.extend(doses)
    changes_on = earliest(ends, weight.stale_on if weight is not None else None)
    finding = combined_finding(found, changes_on=changes_on)
    if finding is not None:
        if finding.verdict is Verdict.FAIL:
            return Finding(Verdict.FAIL, finding.reason, finding.evidence)
        return finding
    limit = ctx.protocol.thresholds.corticosteroid_dose_above_mg_kg_day
    last_day = ends - timedelta(days=1)
    return passes(
        lambda: (said_as('Systemic corticosteroid first started {on}, {days} before (within {window}); every daily dose above {limit} mg/kg/day prednisone-equivalent (lowest {per_kg} mg/kg/day, weight {value} kg on {on2}); the exception lasts until {last_day}', on=first.on, days=days_in_words(ctx.days_before(first.on)), window=window, limit=Figures(f'{limit:g}'), per_kg=_per_kg(lowest, limit), value=Figures(f'{weight.value:g}'), on2=weight.result.on, last_day=last_day)),
        *for_jdm,
        weight.result,
        changes_on=changes_on,
        passes_until=last_day,
    )


def _dose_findings(ctx: Context, courses: list[MedicationExposure]):
    """What stands in the way of "every daily dose above the threshold"; the weight and lowest dose read."""
    protocol = ctx.protocol
    limit = protocol.thresholds.corticosteroid_dose_above_mg_kg_day
    potency = protocol.potency_by_code
    weight = latest_result(ctx, "vital.weight", "weight", protocol.validity.weight).measured("mass")
    found: list[Finding] = []
    kg = None
    needs = "A usable weight is needed for the mg/kg dose"
    if not isinstance(weight, Reading):
        found.append(Finding(weight.verdict, said_as('{needs}: {reason}', needs=needs, reason=weight.reason), weight.evidence))
    elif weight.value is None or weight.value <= 0:
        found.append(
            unknown(said_as('{needs}: the weight of {on} carries no value', needs=needs, on=weight.result.on), weight.result)
        )
    else:
        kg = weight.value
    lowest = None
    for c in courses:
        code = ctx.protocol.codesets["med.corticosteroid_systemic"].matches(c.codes)
        shown = matched_code(ctx, "med.corticosteroid_systemic", c)
        factor = potency.get(code.code.strip().upper().replace(".", "")) if code is not None else None
        if c.daily_dose_mg is None:
            found.append(unknown(said_as('No daily dose recorded for {shown} started {on}', shown=shown, on=c.on), c))
        elif factor is None:
            found.append(
                review(
                    said_as('No prednisone equivalence known for {shown} started {on}: check its dose', shown=shown, on=c.on),
                    c,
                )
            )
        elif kg is not None:
            per_kg = round(c.daily_dose_mg * factor / kg, 6)  # float noise must not cross the threshold
            lowest = per_kg if lowest is None else min(lowest, per_kg)
            if per_kg <= limit:
                found.append(_low_dose(ctx, c, shown, per_kg, limit, weight))
    return found, weight if kg is not None else None, lowest


def _low_dose(
    ctx: Context, course: MedicationExposure, shown: str, per_kg: float, limit: float, weight: Reading
) -> Finding:
    reason = (
        said_as('{shown} {daily_dose_mg} mg/day started {on}: {per_kg} mg/kg/day prednisone-equivalent (weight {value} kg on {on2}), not above {limit} mg/kg/day', shown=shown, daily_dose_mg=Figures(f'{course.daily_dose_mg:g}'), on=course.on, per_kg=_per_kg(per_kg, limit), value=Figures(f'{weight.value:g}'), on2=weight.result.on, limit=Figures(f'{limit:g}'))
    )
    if ctx.protocol.choices.corticosteroid_low_dose_start == "fail":
        return fails(reason, course, weight.result)
    return review(reason, course, weight.result)


def _per_kg(value: float, limit: float) -> str:
    """Two decimals, or four where two would hide which side of the threshold the dose is on."""
    text = f'{value:.2f}'
    if float(text) == limit and value != limit:
        text = f'{value:.4f}'
    return text
