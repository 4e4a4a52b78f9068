"""Exclusions from the child's history: disease form, treatments, vaccines, cancer, HSV, thrombosis, severity."""

from __future__ import annotations

from datetime import date, timedelta

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
from domain.criteria.readings import Reading, latest_result
from domain.facts import Code, Diagnosis, MedicationExposure, Vaccination
from domain.verdicts import Finding, Kind, Verdict

CURRENT_STATUSES = frozenset({"active", "recurrence", "relapse"})
"""Clinical statuses of a diagnosis that is still going on (FHIR Condition.clinicalStatus)."""

NOT_TAKEN = frozenset({"not-taken", "intended", "draft"})
"""Medication statuses that record a plan or a refusal, not an exposure: a drafted baricitinib
prescription for the trial itself must not read as a previous JAK inhibitor."""

JDM_INDICATIONS = ("dx.jdm", "dx.myositis_indication")

_SYSTEM_NAMES = {"icd10": "ICD-10", "atc": "ATC", "snomed": "SNOMED CT", "cvx": "CVX", "loinc": "LOINC"}


# -- shared readings ---------------------------------------------------------------------------


def _shown(code: Code) -> str:
    return f"{_SYSTEM_NAMES.get(code.system, code.system.upper())} {code.code}"


def _code(ctx: Context, code_list: str, fact) -> str:
    """The fact's code that put it in ``code_list``, as a reader would write it."""
    code = ctx.protocol.codesets[code_list].matches(fact.codes) or (fact.codes[0] if fact.codes else None)
    return _shown(code) if code is not None else "uncoded"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _more(facts: list) -> str:
    return f" (and {len(facts) - 1} more)" if len(facts) > 1 else ""


def _is_current(ctx: Context, dx: Diagnosis) -> bool:
    return dx.status in CURRENT_STATUSES and (dx.abated is None or dx.abated > ctx.as_of)


def _taken(ctx: Context, code_list: str) -> list[MedicationExposure]:
    return [m for m in ctx.all(code_list) if m.status not in NOT_TAKEN]


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
    return ", ".join(_shown(r) for r in exposure.reasons)


def _combined(found: list[Finding], changes_on=None) -> Finding | None:
    """One finding from several signals: fail, then unknown, then review; reasons joined."""
    for verdict in (Verdict.FAIL, Verdict.UNKNOWN, Verdict.REVIEW):
        same = [f for f in found if f.verdict is verdict]
        if same:
            evidence = tuple(dict.fromkeys(e for f in same for e in f.evidence))
            reason = "; ".join(f.reason for f in same)
            return Finding(verdict, reason, evidence, None, changes_on)
    return None


def _asking(signals: list[Finding], question: str) -> Finding | None:
    """Signals that do not decide on their own, put to the investigator as one review."""
    finding = _combined(signals)
    if finding is None:
        return None
    return Finding(
        Verdict.REVIEW, lambda: f"{finding.reason}: {question}", finding.evidence, None, finding.changes_on
    )


# -- disease form -------------------------------------------------------------------------------


@criterion("EXC-AMYOPATHIC", Kind.EXCLUSION, attested=True)
def amyopathic_dermatomyositis(ctx: Context) -> Finding | ForAttestation:
    """"Amyopathic dermatomyositis (without muscle weakness)"

    A current amyopathic dermatomyositis diagnosis (``dx.amyopathic``) excludes; one recorded as
    resolved, inactive or abated needs review of the present classification. Otherwise the
    investigator's classification decides.
    """
    found = ctx.all("dx.amyopathic")
    current = [d for d in found if _is_current(ctx, d)]
    if current:
        first = current[0]
        return fails(
            lambda: (f"Amyopathic dermatomyositis recorded ({_code(ctx, 'dx.amyopathic', first)}, "
            f"onset {first.on.isoformat()}){_more(current)}"),
            *current,
        )
    if found:
        last = found[0]
        return attestation_decides(
            review(
                f"Amyopathic dermatomyositis ({_code(ctx, 'dx.amyopathic', last)}, onset "
                f"{last.on.isoformat()}) is recorded as no longer current: check the present classification",
                *found,
            ),
        )
    return attestation_decides()


@criterion("EXC-ORAL", Kind.EXCLUSION, attested=True)
def cannot_take_oral_treatment(ctx: Context) -> Finding | ForAttestation:
    """"Inability to be treated by oral way or to take pills"

    Only the investigator can say a child cannot take tablets; a current dysphagia diagnosis
    (``dx.dysphagia``) is a signal that asks for that judgement.
    """
    current = [d for d in ctx.all("dx.dysphagia") if _is_current(ctx, d)]
    if current:
        first = current[0]
        return attestation_decides(
            review(
                f"Dysphagia recorded ({_code(ctx, 'dx.dysphagia', first)}, onset {first.on.isoformat()}): "
                "check the child can take oral treatment",
                *current,
            ),
        )
    return attestation_decides()


# -- previous treatments ------------------------------------------------------------------------


@criterion("EXC-PRIOR-JAKI", Kind.EXCLUSION, attested=True)
def previous_jak_inhibitor(ctx: Context) -> Finding | ForAttestation:
    """"Previous treatment with JAK inhibitor"

    Any systemic JAK inhibitor ever (``med.jak_systemic``) excludes. A topical JAK inhibitor or a TYK2
    inhibitor needs review. A medication list cannot prove that none was ever taken, so a pass needs
    the investigator's attestation.
    """
    systemic = _taken(ctx, "med.jak_systemic")
    if systemic:
        last = systemic[0]
        return fails(
            lambda: (f"Systemic JAK inhibitor ({_code(ctx, 'med.jak_systemic', last)}) started "
            f"{last.on.isoformat()}{_more(systemic)}"),
            *systemic,
        )
    signals = [
        review(
            f"Topical JAK inhibitor ({_code(ctx, 'med.jak_topical', m)}) started {m.on.isoformat()}: "
            "check whether it counts as previous JAK inhibitor treatment",
            m,
        )
        for m in _taken(ctx, "med.jak_topical")
    ] + [
        review(
            f"TYK2 inhibitor ({_code(ctx, 'med.jak_review', m)}) started {m.on.isoformat()}: "
            "check whether it counts as a JAK inhibitor",
            m,
        )
        for m in _taken(ctx, "med.jak_review")
    ]
    return attestation_decides(_combined(signals))


@criterion("EXC-PRIOR-IS", Kind.EXCLUSION, attested=True)
def previous_immunosuppressant_for_jdm(ctx: Context) -> Finding | ForAttestation:
    """"Previous treatment of JDM with immunosuppressive drugs or biologics other than corticosteroids."

    An immunosuppressant or biologic (``med.immunosuppressant``) whose recorded indication is JDM
    excludes; with no indication recorded it is presumed given for the JDM being screened. One given
    for another indication, an ambiguous agent (IVIG, hydroxychloroquine, topical calcineurin
    inhibitors) or another antineoplastic needs review. Corticosteroids are EXC-PRIOR-CS's business.
    """
    immunosuppressants = _taken(ctx, "med.immunosuppressant")
    found: list[Finding] = []
    for m in immunosuppressants:
        code = _code(ctx, "med.immunosuppressant", m)
        jdm = _jdm_reason(ctx, m)
        if jdm is not None:
            found.append(fails(f"{code} started {m.on.isoformat()} for JDM ({_shown(jdm)})", m))
        elif not m.reasons:
            found.append(
                fails(
                    f"{code} started {m.on.isoformat()} with no indication recorded, presumed given for JDM",
                    m,
                )
            )
        else:
            found.append(
                review(
                    f"{code} started {m.on.isoformat()} for another indication ({_reasons_shown(m)}): "
                    "check it was not given for JDM",
                    m,
                )
            )
    for m in _taken(ctx, "med.immunosuppressant_ambiguous"):
        found.append(
            review(
                f"{_code(ctx, 'med.immunosuppressant_ambiguous', m)} started {m.on.isoformat()} "
                "(IVIG, hydroxychloroquine or a topical calcineurin inhibitor): check whether it counts "
                "as an immunosuppressant given for JDM",
                m,
            )
        )
    held = {m.source for m in immunosuppressants}
    for m in _taken(ctx, "med.antineoplastic"):
        if m.source not in held:
            found.append(
                review(
                    f"Antineoplastic {_code(ctx, 'med.antineoplastic', m)} started {m.on.isoformat()}: "
                    "check whether it was given for JDM",
                    m,
                )
            )
    finding = _combined(found)
    if finding is not None and finding.verdict is Verdict.FAIL:
        return Finding(
            finding.verdict,
            lambda: f"Immunosuppressant or biologic before inclusion: {finding.reason}",
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
    courses = _taken(ctx, "med.corticosteroid_systemic")
    if not courses:
        return passes("No systemic corticosteroid in the medication list")
    window = ctx.protocol.windows.prior_corticosteroids
    for_jdm = [c for c in courses if not _other_indication(ctx, c)]
    found = [
        review(
            f"Systemic corticosteroid {_code(ctx, 'med.corticosteroid_systemic', c)} started "
            f"{c.on.isoformat()} for another indication ({_reasons_shown(c)}): check it",
            c,
        )
        for c in courses
        if _other_indication(ctx, c)
    ]
    if not for_jdm:
        return _combined(found) or passes("No systemic corticosteroid for JDM in the medication list")
    first = min(for_jdm, key=lambda c: c.on)
    if not ctx.within(first.on, window):
        return fails(
            lambda: (f"Systemic corticosteroid first started {first.on.isoformat()} "
            f"({_code(ctx, 'med.corticosteroid_systemic', first)}), "
            f"{_days(ctx.days_before(first.on))} before, "
            f"more than {window} days"),
            *for_jdm,
        )
    ends = ctx.window_end(first.on, window)
    doses, weight, lowest = _dose_findings(ctx, for_jdm)
    found.extend(doses)
    changes_on = earliest(ends, weight.stale_on if weight is not None else None)
    finding = _combined(found, changes_on=changes_on)
    if finding is not None:
        if finding.verdict is Verdict.FAIL:
            return Finding(Verdict.FAIL, finding.reason, finding.evidence)
        return finding
    limit = ctx.protocol.thresholds.corticosteroid_dose_above_mg_kg_day
    last_day = ends - timedelta(days=1)
    return passes(
        lambda: (f"Systemic corticosteroid first started {first.on.isoformat()}, {_days(ctx.days_before(first.on))} "
        f"before (within {window}); every daily dose above {limit:g} mg/kg/day prednisone-equivalent "
        f"(lowest {_per_kg(lowest, limit)} mg/kg/day, weight {weight.value:g} kg on "
        f"{weight.result.on.isoformat()}); the exception lasts until {last_day.isoformat()}"),
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
        found.append(Finding(weight.verdict, f"{needs}: {weight.reason}", weight.evidence))
    elif weight.value is None or weight.value <= 0:
        found.append(
            unknown(f"{needs}: the weight of {weight.result.on.isoformat()} carries no value", weight.result)
        )
    else:
        kg = weight.value
    lowest = None
    for c in courses:
        code = ctx.protocol.codesets["med.corticosteroid_systemic"].matches(c.codes)
        shown = _code(ctx, "med.corticosteroid_systemic", c)
        factor = potency.get(code.code.strip().upper().replace(".", "")) if code is not None else None
        if c.daily_dose_mg is None:
            found.append(unknown(f"No daily dose recorded for {shown} started {c.on.isoformat()}", c))
        elif factor is None:
            found.append(
                review(
                    f"No prednisone equivalence known for {shown} started {c.on.isoformat()}: check its dose",
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
        f"{shown} {course.daily_dose_mg:g} mg/day started {course.on.isoformat()}: "
        f"{_per_kg(per_kg, limit)} mg/kg/day "
        f"prednisone-equivalent (weight {weight.value:g} kg on {weight.result.on.isoformat()}), "
        f"not above {limit:g} mg/kg/day"
    )
    if ctx.protocol.choices.corticosteroid_low_dose_start == "fail":
        return fails(reason, course, weight.result)
    return review(reason, course, weight.result)


def _per_kg(value: float, limit: float) -> str:
    """Two decimals, or four where two would hide which side of the threshold the dose is on."""
    text = f"{value:.2f}"
    if float(text) == limit and value != limit:
        text = f"{value:.4f}"
    return text


# -- cancer, vaccines ----------------------------------------------------------------------------


@criterion("EXC-CANCER-HX", Kind.EXCLUSION, attested=True)
def history_of_cancer(ctx: Context) -> Finding | ForAttestation:
    """"Previous history of cancer"

    Any malignancy ever recorded (``dx.cancer``), in remission or not, excludes. Borderline entities
    (``dx.cancer_borderline``: uncertain behaviour, Langerhans cell histiocytosis) need review, even
    where their code also falls in the malignant range.
    """
    borderline_set = ctx.protocol.codesets["dx.cancer_borderline"]
    cancers = [d for d in ctx.all("dx.cancer") if borderline_set.matches(d.codes) is None]
    if cancers:
        last = cancers[0]
        return fails(
            lambda: f"Cancer recorded ({_code(ctx, 'dx.cancer', last)}, onset {last.on.isoformat()}){_more(cancers)}",
            *cancers,
        )
    borderline = ctx.all("dx.cancer_borderline")
    if borderline:
        last = borderline[0]
        return attestation_decides(
            review(
                "Tumour of uncertain or borderline behaviour recorded "
                f"({_code(ctx, 'dx.cancer_borderline', last)}, "
                f"onset {last.on.isoformat()}){_more(borderline)}: check whether it counts as cancer",
                *borderline,
            ),
        )
    return attestation_decides()


@criterion("EXC-LIVE-VACCINE", Kind.EXCLUSION, attested=True)
def recent_live_vaccine(ctx: Context) -> Finding | ForAttestation:
    """"Live vaccine within the 4 weeks before starting baricitinib therapy"

    A live attenuated vaccine (``vax.live``) given within 28 days before ``as_of`` fails until the
    window ends; a vaccine that may be live (``vax.maybe_live``) needs review. The absence of a record
    proves nothing, so a pass needs the investigator's attestation.
    """
    window = ctx.protocol.windows.live_vaccine
    live = [v for v in ctx.all("vax.live") if ctx.within(v.on, window)]
    if live:
        last: Vaccination = live[0]
        until = ctx.window_end(last.on, window)
        return fails(
            lambda: (f"Live vaccine ({_vaccine_code(last)}) on {last.on.isoformat()}, "
            f"{_days(ctx.days_before(last.on))} before; the {window}-day window ends {until.isoformat()}"),
            *live,
            until=until,
        )
    maybe = [v for v in ctx.all("vax.maybe_live") if ctx.within(v.on, window)]
    if maybe:
        last = maybe[0]
        return attestation_decides(
            review(
                f"Vaccine {_vaccine_code(last)} on {last.on.isoformat()} may be live: check the product",
                *maybe,
                changes_on=ctx.window_end(last.on, window),
            ),
        )
    return attestation_decides()


def _vaccine_code(vaccine: Vaccination) -> str:
    return ", ".join(f"{c.system.upper()} {c.code}" for c in vaccine.codes[:1]) or "uncoded"


# -- infections, thrombosis, severity ------------------------------------------------------------


@criterion("EXC-HSV-12W", Kind.EXCLUSION, attested=True)
def recent_symptomatic_hsv(ctx: Context) -> Finding | ForAttestation:
    """"Symptomatic herpes herpes simplex infection within 12 weeks prior to inclusion"

    An HSV episode (``dx.hsv``) whose last symptomatic day (abatement date, else onset) is within 84
    days before ``as_of`` excludes until 85 days after that day. An episode still recorded as active
    with no abatement date has no last day yet, so it excludes with no end date. An HSV antiviral
    started within the window without such an episode needs review.
    """
    window = ctx.protocol.windows.symptomatic_hsv
    start = ctx.as_of - timedelta(days=window)
    ongoing: list[Diagnosis] = []
    recent: list[tuple[Diagnosis, date]] = []
    for d in ctx.all("dx.hsv"):
        if d.abated is None and d.status in CURRENT_STATUSES:
            ongoing.append(d)
            continue
        last_day = d.abated or d.on
        if last_day >= start:
            recent.append((d, last_day))
    if ongoing:
        first = ongoing[0]
        return fails(
            lambda: (f"HSV episode ({_code(ctx, 'dx.hsv', first)}) from {first.on.isoformat()} is still recorded as "
            f"{first.status} with no abatement date; it excludes until {window} days after it ends"),
            *ongoing,
        )
    if recent:
        episode, last_day = max(recent, key=lambda pair: pair[1])
        until = ctx.window_end(last_day, window)
        which = "abated" if episode.abated is not None else "onset"
        return fails(
            lambda: (f"Symptomatic HSV ({_code(ctx, 'dx.hsv', episode)}), {which} {last_day.isoformat()}; "
            f"the {window}-day window ends {until.isoformat()}"),
            *(d for d, _ in recent),
            until=until,
        )
    antivirals = [m for m in _taken(ctx, "med.hsv_antiviral") if ctx.within(m.on, window)]
    if antivirals:
        last = antivirals[0]
        return attestation_decides(
            review(
                f"HSV antiviral {_code(ctx, 'med.hsv_antiviral', last)} started {last.on.isoformat()} "
                "with no HSV episode recorded: check for a symptomatic HSV infection",
                *antivirals,
                changes_on=ctx.window_end(last.on, window),
            ),
        )
    return attestation_decides()


@criterion("EXC-THROMBOSIS-HX", Kind.EXCLUSION, attested=True)
def history_of_thrombosis(ctx: Context) -> Finding | ForAttestation:
    """"History of thrombosis"

    Any venous or arterial thrombosis ever recorded (``dx.thrombosis``) excludes; otherwise the
    investigator confirms the history.
    """
    events = ctx.all("dx.thrombosis")
    if events:
        last = events[0]
        return fails(
            lambda: (f"Thrombosis recorded ({_code(ctx, 'dx.thrombosis', last)}, "
            f"onset {last.on.isoformat()}){_more(events)}"),
            *events,
        )
    return attestation_decides()


@criterion("EXC-VTE-RISK", Kind.EXCLUSION, attested=True)
def high_venous_thrombosis_risk(ctx: Context) -> Finding | ForAttestation:
    """"or considered at high risk of venous thrombosis by the investigator"

    The investigator's judgement. A thrombophilia diagnosis or a current estrogen-containing
    contraceptive (a VTE risk factor in the baricitinib label) is put to that judgement as review.
    """
    signals = [
        review(f"Thrombophilia recorded ({_code(ctx, 'dx.thrombophilia', d)}, onset {d.on.isoformat()})", d)
        for d in ctx.all("dx.thrombophilia")
    ] + [
        review(
            f"Estrogen-containing contraceptive {_code(ctx, 'med.estrogen_contraceptive', m)} "
            f"since {m.on.isoformat()}",
            m,
        )
        for m in _taken(ctx, "med.estrogen_contraceptive")
        if m.until is None or m.until >= ctx.as_of
    ]
    return attestation_decides(_asking(signals, "check the venous thrombosis risk"))


@criterion("EXC-SEVERE-JDM", Kind.EXCLUSION, attested=True)
def severe_jdm_involvement(ctx: Context) -> Finding | ForAttestation:
    """"Presence of severe JDM-related involvements: cardiovascular (requiring vasopressive drug and/or intensive care unit), respiratory (requiring oxygen and/or intensive care unit), gastrointestinal (requiring abdominal surgery)."

    The investigator attests it. Diagnoses that signal severe involvement (``dx.severe_jdm_signal``:
    myocarditis, heart failure, shock, interstitial lung disease, respiratory failure, gut
    vasculopathy), current or past, and any vasopressor (``med.vasopressor``) are put to review.
    """
    signals = [
        review(
            f"{_code(ctx, 'dx.severe_jdm_signal', d)} recorded "
            f"({'current' if _is_current(ctx, d) else 'past'}, onset {d.on.isoformat()})",
            d,
        )
        for d in ctx.all("dx.severe_jdm_signal")
    ]
    if "med.vasopressor" in ctx.protocol.codesets:
        signals += [
            review(f"Vasopressor {_code(ctx, 'med.vasopressor', m)} started {m.on.isoformat()}", m)
            for m in _taken(ctx, "med.vasopressor")
        ]
    return attestation_decides(_asking(signals, "check for severe JDM involvement"))


@criterion("EXC-SEVERE-OTHER", Kind.EXCLUSION, attested=True)
def severe_unrelated_illness(ctx: Context) -> Finding | ForAttestation:
    """"History of severe non-related JDM involvement: cardiovascular, respiratory, hepatic, gastrointestinal, endocrine, hematological, neurological or neuropsychiatric disorders or any other serious and/or instable illness that, in the opinion of the investigator, could constitute an unacceptable risk, when taking baricitinib."

    The investigator's opinion alone.
    """
    return attestation_decides()
