"""One mapper per supported resource type: an R4B model in, domain facts out (contract §2).

Each mapper reads a validated model and returns a ``Mapped``; it raises InvalidInput only for what
the contract cannot read (an unknown status code, an attestation without a verdict). Everything else
that is merely unusual becomes a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain import doses
from domain.criteria import ORDER
from domain.facts import (
    Assessment,
    Attestation,
    Code,
    ConsentRecord,
    ConsentState,
    CoverageRecord,
    Diagnosis,
    LabResult,
    MedicationExposure,
    PatientProfile,
    Qualitative,
    Quantity,
    Sex,
    Vaccination,
)
from ingest.errors import InvalidInput
from ingest.fhir_values import (
    UNDATED,
    codes_of,
    coding_code,
    concept_text,
    day_of,
    first_day,
    mass_mg,
    number,
    period_end,
    period_start,
    quantity_of,
    reference_key,
)
from ingest.systems import (
    MYOCIT_ASSESSMENT,
    MYOCIT_COVERAGE,
    MYOCIT_CRITERION,
    MYOCIT_VERDICT,
    answer_in_words,
    answer_of,
    flag_answer,
)

STATUSES = {
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                    "entered-in-error", "unknown"},
    "DiagnosticReport": {"registered", "partial", "preliminary", "final", "amended", "corrected",
                         "appended", "cancelled", "entered-in-error", "unknown"},
    "MedicationStatement": {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold",
                            "unknown", "not-taken"},
    "MedicationRequest": {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                          "draft", "unknown"},
    "MedicationAdministration": {"in-progress", "not-done", "on-hold", "completed", "entered-in-error",
                                 "stopped", "unknown"},
    "Immunization": {"completed", "entered-in-error", "not-done"},
    "Consent": {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    "Coverage": {"active", "cancelled", "draft", "entered-in-error"},
}
CLINICAL_STATUSES = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
VERIFICATION_STATUSES = {"unconfirmed", "provisional", "differential", "confirmed", "refuted",
                         "entered-in-error"}
RETRACTING = frozenset({"entered-in-error", "cancelled"})
MENARCHE_AGE = frozenset({Code("loinc", "42798-9"), Code("snomed", "398700009")})
_YES = frozenset({"Y", "LA33-6", "373066001"})
_NO = frozenset({"N", "LA32-8", "373067005"})
_FAMILY_PREFIXES = {
    LabResult: ("lab.", "vital.", "obs."),
    Assessment: ("assessment.",),
    Diagnosis: ("dx.",),
    MedicationExposure: ("med.",),
    Vaccination: ("vax.",),
}


@dataclass(slots=True)
class MappingContext:
    """What mapping one FHIR resource to facts needs beside the resource: where it sits in its message
    (``source``, for warnings; ``revision``), how its references resolve, and the warnings so far."""

    source: str
    revision: int
    resolve: Callable[[str | None], Any]
    warnings: list[str]
    retracted: str | None = None
    """A DiagnosticReport in the same bundle retracted this observation: its status."""
    parents: tuple = ()
    """The DiagnosticReports and panel Observations naming this observation, nearest first."""
    protocol: Any = None
    """The protocol in force, whose code lists tell which codes some criterion uses (a warning for the
    others); None: no such warning."""

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.source}: {text}")


@dataclass(slots=True)
class Mapped:
    facts: list = field(default_factory=list)
    subject: Any = None
    profile: PatientProfile | None = None
    site: str | None = None
    identifiers: list[tuple[str | None, str]] = field(default_factory=list)


# --- shared -----------------------------------------------------------------------------------------


def _status(resource: Any, ctx: MappingContext) -> str:
    kind = resource.get_resource_type()
    status = (resource.status or "").strip()
    if status not in STATUSES[kind]:
        raise InvalidInput(f"{ctx.source}: status is not one of the {kind} statuses",
                           code="code-invalid", location=f"{kind}.status")
    return status


def _dated(ctx: MappingContext, what: str, *values: Any, lifetime: bool = False) -> tuple[date, str] | None:
    found = first_day(*values)
    if found is None:
        if lifetime:
            ctx.warn(f"no {what} date: taken as some time before ({UNDATED.isoformat()})")
            return UNDATED, ""
        ctx.warn(f"no {what} date: ignored")
        return None
    day, seq, partial = found
    if partial:
        ctx.warn(f"{what} date is partial: taken as {day.isoformat()}")
    return day, seq


def _check_used(fact: Any, ctx: MappingContext) -> None:
    prefixes = _FAMILY_PREFIXES.get(type(fact))
    if ctx.protocol is None or prefixes is None or not fact.codes:
        return
    if ctx.protocol.classify(prefixes, fact.codes):
        return
    shown = ", ".join(str(c) for c in fact.codes[:3])
    ctx.warn(f"{shown} is not used by any criterion")


def _finish(facts: list, ctx: MappingContext) -> list:
    for fact in facts:
        if fact.status not in RETRACTING:
            _check_used(fact, ctx)
    return facts


def _first_ref(refs: Any) -> str | None:
    for ref in refs or ():
        if ref.reference:
            return ref.reference
        if ref.display:
            return ref.display
    return None


# --- Patient ----------------------------------------------------------------------------------------

_SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.OTHER, "unknown": Sex.UNKNOWN}


def patient_identifiers(patient: Any) -> list[tuple[str | None, str]]:
    return [(i.system, i.value.strip()) for i in (patient.identifier or ()) if i.value and i.value.strip()]


def _site(ref: Any) -> str | None:
    if ref is None:
        return None
    if ref.reference:
        key = reference_key(ref.reference)
        if key.startswith("Organization/"):
            return key.split("/", 1)[1]
    if ref.identifier is not None and ref.identifier.value:
        return ref.identifier.value
    return None


def map_patient(patient: Any, ctx: MappingContext) -> Mapped:
    gender = (patient.gender or "unknown").strip()
    if gender not in _SEX:
        raise InvalidInput(f"{ctx.source}: gender is not a FHIR gender (male, female, other, unknown)", code="code-invalid",
                           location="Patient.gender")
    birth = None
    found = day_of(patient.birthDate)
    if found is not None:
        birth, _seq, partial = found
        if partial:
            ctx.warn("birth date is partial: age cannot be computed")
            birth = None
    site = _site(patient.managingOrganization)
    if patient.managingOrganization is not None and site is None:
        ctx.warn("managingOrganization is not an Organization/{site} reference")
    return Mapped(profile=PatientProfile(birth, _SEX[gender], site), site=site,
                  identifiers=patient_identifiers(patient))


# --- Observation -----------------------------------------------------------------------------------


def _obs_day(obs: Any, ctx: MappingContext) -> tuple[date, str] | None:
    values = [obs.effectiveDateTime, obs.effectiveInstant, period_start(obs.effectivePeriod), obs.issued]
    for parent in ctx.parents:
        values += [parent.effectiveDateTime, period_start(parent.effectivePeriod), parent.issued]
    return _dated(ctx, "effective", *values)


def _specimen_refs(resource: Any) -> list:
    found = getattr(resource, "specimen", None)
    if found is None:
        return []
    return [r for r in found if r is not None] if isinstance(found, list) else [found]


def _specimen(obs: Any, ctx: MappingContext) -> tuple[str | None, str | None]:
    """(specimen type text, sample id) of an observation, else of its nearest report or panel that
    names one; with no specimen anywhere, results of one report share the report as their sample."""
    refs = _specimen_refs(obs)
    for parent in ctx.parents:
        if refs:
            break
        refs = _specimen_refs(parent)
    if not refs:
        report = next((p for p in ctx.parents if p.get_resource_type() == "DiagnosticReport" and p.id), None)
        return None, (f"DiagnosticReport/{report.id}" if report is not None else None)
    ref = refs[0]
    target = ctx.resolve(ref.reference)
    text = None
    if target is not None and target.get_resource_type() == "Specimen":
        text = concept_text(target.type)
    text = text or ref.display
    sample = reference_key(ref.reference) if ref.reference else None
    if sample and sample.startswith("#"):
        sample = f"{ctx.source}{sample}"
    return text, sample


def _interpretations(obs: Any) -> list[str]:
    return [c.code for concept in (obs.interpretation or ()) for c in (concept.coding or ()) if c.code]


def _value(holder: Any, flags: list[str]) -> tuple[Quantity | None, Qualitative | None, str | None]:
    """(quantity, qualitative answer, text) of an Observation or component value."""
    quantity = answer = text = None
    if holder.valueQuantity is not None:
        quantity = quantity_of(holder.valueQuantity)
    elif holder.valueInteger is not None:
        quantity = Quantity(float(holder.valueInteger), "")
    elif holder.valueCodeableConcept is not None:
        concept = holder.valueCodeableConcept
        text = concept_text(concept)
        for code in codes_of(concept):
            answer = answer_of(code)
            if answer is not None:
                break
        if answer is None:
            answer = answer_in_words(concept.text) or next(
                (answer_in_words(c.display) for c in concept.coding or () if answer_in_words(c.display)), None)
    elif holder.valueString is not None:
        text = holder.valueString
        answer = answer_in_words(text)
    elif holder.valueBoolean is not None:
        answer = Qualitative.POSITIVE if holder.valueBoolean else Qualitative.NEGATIVE
    elif holder.valueRange is not None:
        low, high = holder.valueRange.low, holder.valueRange.high
        text = f"{number(low.value) if low else ''}-{number(high.value) if high else ''}"
    elif holder.valueRatio is not None:
        num, den = holder.valueRatio.numerator, holder.valueRatio.denominator
        text = f"{number(num.value) if num else ''}:{number(den.value) if den else ''}"
    elif holder.valueDateTime is not None or holder.valueTime is not None:
        text = str(holder.valueDateTime or holder.valueTime)
    if answer is None:
        answer = flag_answer(flags, numeric=quantity is not None)
    return quantity, answer, text


def _attestation(obs: Any, ctx: MappingContext, status: str, day: date, seq: str) -> Attestation:
    criterion = coding_code(obs.code, MYOCIT_CRITERION) or ""
    verdict = coding_code(obs.valueCodeableConcept, MYOCIT_VERDICT) if obs.valueCodeableConcept else None
    if verdict not in ("pass", "fail"):
        if status not in RETRACTING:
            shown = "missing" if verdict is None else "another code"
            raise InvalidInput(f"{ctx.source}: attestation verdict is {shown}: expected {MYOCIT_VERDICT} "
                               "pass or fail", code="required" if verdict is None else "code-invalid",
                               location="Observation.valueCodeableConcept")
        verdict = ""
    if criterion not in ORDER:
        ctx.warn(f"attestation for unknown criterion {criterion[:40]!r}")
    note = " ".join(n.text.strip() for n in (obs.note or ()) if n.text and n.text.strip()) or None
    return Attestation(ctx.source, day, criterion, verdict, _first_ref(obs.performer), note, status,
                       ctx.revision, seq)


def _assessment(obs: Any, ctx: MappingContext, codes, status, day, seq, source) -> Assessment:
    score = flag = comparator = None
    if obs.valueInteger is not None:
        score = float(obs.valueInteger)
    elif obs.valueQuantity is not None and obs.valueQuantity.value is not None:
        score = float(obs.valueQuantity.value)
        comparator = obs.valueQuantity.comparator or None
    elif obs.valueBoolean is not None:
        flag = bool(obs.valueBoolean)
    elif obs.valueCodeableConcept is not None:
        found = {c.code for c in codes_of(obs.valueCodeableConcept)}
        flag = True if found & _YES else False if found & _NO else None
    if score is None and flag is None and status not in RETRACTING:
        ctx.warn("assessment carries no value")
    return Assessment(source, day, codes, status, score, flag, ctx.revision, seq, comparator)


def map_observation(obs: Any, ctx: MappingContext) -> Mapped:
    status = _status(obs, ctx)
    if ctx.retracted:
        status = ctx.retracted
    mapped = Mapped(subject=obs.subject)
    when = _obs_day(obs, ctx)
    if when is None:
        return mapped
    day, seq = when
    codes = codes_of(obs.code)
    if coding_code(obs.code, MYOCIT_CRITERION) is not None:
        mapped.facts.append(_attestation(obs, ctx, status, day, seq))
        return mapped
    if coding_code(obs.code, MYOCIT_ASSESSMENT) is not None:
        mapped.facts.append(_assessment(obs, ctx, codes, status, day, seq, ctx.source))
        return _done(mapped, ctx)
    if MENARCHE_AGE.intersection(codes) and (obs.valueQuantity is not None or obs.valueInteger is not None):
        ctx.warn("an age at menarche is read as 'after menarche'")
        menarche = (Code("myocit-assessment", "menarche"), *codes)
        mapped.facts.append(Assessment(ctx.source, day, menarche, status, None, True, ctx.revision, seq))
        return _done(mapped, ctx)
    specimen, sample = _specimen(obs, ctx)
    flags = _interpretations(obs)
    quantity, answer, text = _value(obs, flags)
    if (quantity is None and answer is None and text is None and not obs.component and not obs.hasMember
            and status not in RETRACTING):
        ctx.warn("no value")
    if codes or not obs.component:
        mapped.facts.append(LabResult(ctx.source, day, codes, status, quantity, answer, text, specimen, sample,
                                      ctx.revision, seq))
    for i, component in enumerate(obs.component or ()):
        c_codes = codes_of(component.code)
        if not c_codes:
            continue
        c_flags = [c.code for concept in (component.interpretation or ()) for c in (concept.coding or ())
                   if c.code]
        c_quantity, c_answer, c_text = _value(component, c_flags)
        mapped.facts.append(LabResult(f"{ctx.source}#component-{i}", day, c_codes, status, c_quantity,
                                      c_answer, c_text, specimen, sample, ctx.revision, seq))
    return _done(mapped, ctx)


def _done(mapped: Mapped, ctx: MappingContext) -> Mapped:
    _finish(mapped.facts, ctx)
    return mapped


# --- DiagnosticReport ------------------------------------------------------------------------------


def map_report(report: Any, ctx: MappingContext) -> Mapped:
    """Contained results become facts; a retracted report retracts every result it names."""
    status = _status(report, ctx)
    mapped = Mapped(subject=report.subject)
    retracting = status if status in RETRACTING else None
    when = first_day(report.effectiveDateTime, period_start(report.effectivePeriod), report.issued)
    for ref in report.result or ():
        if not ref.reference:
            continue
        target = ctx.resolve(ref.reference)
        if ref.reference.startswith("#"):
            if target is None or target.get_resource_type() != "Observation":
                ctx.warn(f"result {ref.reference[:40]} is not a contained Observation")
                continue
            inner = MappingContext(f"{ctx.source}{ref.reference}", ctx.revision, ctx.resolve, ctx.warnings,
                            retracting, (report,), ctx.protocol)
            mapped.facts.extend(map_observation(target, inner).facts)
        elif retracting and target is None:
            if when is None:
                ctx.warn("retracted report has no date: its results cannot be retracted")
                continue
            key = reference_key(ref.reference)
            mapped.facts.append(LabResult(key, when[0], (), retracting, revision=ctx.revision, seq=when[1]))
    return mapped


# --- Condition ---------------------------------------------------------------------------------------


def map_condition(condition: Any, ctx: MappingContext) -> Mapped:
    mapped = Mapped(subject=condition.subject)
    clinical = coding_code(condition.clinicalStatus, "http://terminology.hl7.org/CodeSystem/condition-clinical")
    clinical = clinical or next((c.code for c in codes_of(condition.clinicalStatus)), None)
    verification = next((c.code for c in codes_of(condition.verificationStatus)), None) or "confirmed"
    if clinical is not None and clinical not in CLINICAL_STATUSES:
        raise InvalidInput(f"{ctx.source}: clinicalStatus is not a condition status",
                           code="code-invalid", location="Condition.clinicalStatus")
    if verification not in VERIFICATION_STATUSES:
        raise InvalidInput(f"{ctx.source}: verificationStatus is not a verification "
                           "status", code="code-invalid", location="Condition.verificationStatus")
    abated_found = first_day(condition.abatementDateTime, period_end(condition.abatementPeriod),
                             period_start(condition.abatementPeriod))
    abated = abated_found[0] if abated_found else None
    status = clinical or ("resolved" if abated else "active")
    if verification == "entered-in-error":
        status = "entered-in-error"
    meta_day = condition.meta.lastUpdated if condition.meta else None
    when = _dated(ctx, "onset", condition.onsetDateTime, period_start(condition.onsetPeriod),
                  condition.recordedDate, meta_day, lifetime=True)
    codes = codes_of(condition.code)
    if not codes:
        ctx.warn("condition has no coded diagnosis")
    day, seq = when
    mapped.facts.append(Diagnosis(ctx.source, day, codes, status, abated, verification, ctx.revision, seq))
    return _done(mapped, ctx)


# --- Medicines ---------------------------------------------------------------------------------------


def _medication(resource: Any, ctx: MappingContext) -> tuple[tuple[Code, ...], str | None]:
    concept = resource.medicationCodeableConcept
    if concept is not None:
        return codes_of(concept), concept_text(concept)
    ref = resource.medicationReference
    target = ctx.resolve(ref.reference) if ref is not None else None
    if target is not None and target.get_resource_type() == "Medication":
        codes = list(codes_of(target.code))
        for ingredient in target.ingredient or ():
            codes.extend(codes_of(getattr(ingredient, "itemCodeableConcept", None)))
        return tuple(dict.fromkeys(codes)), concept_text(target.code)
    if ref is not None:
        ctx.warn("medication reference cannot be resolved: no code")
        return (), ref.display
    return (), None


def _per_day(timing: Any) -> float | None:
    if timing is None:
        return None
    repeat = timing.repeat
    if repeat is not None and (repeat.frequency is not None or repeat.period is not None):
        frequency = float(repeat.frequencyMax or repeat.frequency or 1)
        period = float(repeat.period) if repeat.period is not None else None
        return doses.administrations_per_day(frequency, period, repeat.periodUnit)
    code = coding_code(timing.code, "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation")
    return doses.ADMINISTRATIONS_PER_DAY.get(code or "")


def _daily_mg(dose_q: Any, rate_q: Any, timing: Any, ctx: MappingContext) -> float | None:
    """mg per day: a rate in mg/d, else dose × administrations per day (one a day when not given)."""
    if rate_q is not None:
        rate = quantity_of(rate_q)
        if rate is not None and doses.is_mg_per_day(rate.unit):
            return rate.value
    if dose_q is None:
        return None
    mg = mass_mg(dose_q)
    if mg is None:
        unit = quantity_of(dose_q)
        ctx.warn(f"dose unit {unit.unit if unit else '?'!r} is not a mass: no daily dose")
        return None
    return doses.daily_mg(mg, _per_day(timing))


def _dosage_dose(dosages: list, ctx: MappingContext) -> tuple[float | None, str | None]:
    """The daily dose and route of the first dosage (by sequence): the dose the course started with."""
    if not dosages:
        return None, None
    ordered = sorted(dosages, key=lambda d: d.sequence if d.sequence is not None else 0)
    first = ordered[0]
    if len(ordered) > 1:
        ctx.warn(f"{len(ordered)} dosages: the daily dose is the first one's")
    rate = dose = None
    for dr in first.doseAndRate or ():
        dose = dose or dr.doseQuantity
        rate = rate or dr.rateQuantity
    daily = _daily_mg(dose, rate, first.timing, ctx)
    return daily, concept_text(first.route)


def _reasons(resource: Any, ctx: MappingContext) -> tuple[Code, ...]:
    reasons = [c for concept in (resource.reasonCode or ()) for c in codes_of(concept)]
    for ref in resource.reasonReference or ():
        target = ctx.resolve(ref.reference)
        if target is not None and target.get_resource_type() == "Condition":
            reasons.extend(codes_of(target.code))
    return tuple(dict.fromkeys(reasons))


def _medicine(resource: Any, ctx: MappingContext, status: str, when, until, daily, route) -> Mapped:
    mapped = Mapped(subject=getattr(resource, "subject", None))
    codes, name = _medication(resource, ctx)
    day, seq = when
    until_day = until[0] if until else None
    mapped.facts.append(MedicationExposure(ctx.source, day, codes, status, until_day, daily, route,
                                           _reasons(resource, ctx), name, ctx.revision, seq))
    return _done(mapped, ctx)


def _last_updated(resource: Any) -> Any:
    return resource.meta.lastUpdated if resource.meta else None


def map_statement(statement: Any, ctx: MappingContext) -> Mapped:
    status = _status(statement, ctx)
    when = _dated(ctx, "start", statement.effectiveDateTime, period_start(statement.effectivePeriod),
                  period_end(statement.effectivePeriod), statement.dateAsserted, _last_updated(statement),
                  lifetime=True)
    until = first_day(period_end(statement.effectivePeriod))
    daily, route = _dosage_dose(list(statement.dosage or ()), ctx)
    return _medicine(statement, ctx, status, when, until, daily, route)


def map_request(request: Any, ctx: MappingContext) -> Mapped:
    status = _status(request, ctx)
    dosages = list(request.dosageInstruction or ())
    bounds_start = bounds_end = None
    duration = None
    for dosage in dosages:
        repeat = dosage.timing.repeat if dosage.timing is not None else None
        if repeat is not None and repeat.boundsPeriod is not None:
            bounds_start = bounds_start or repeat.boundsPeriod.start
            bounds_end = bounds_end or repeat.boundsPeriod.end
        if repeat is not None and repeat.boundsDuration is not None and duration is None:
            duration = repeat.boundsDuration
    when = _dated(ctx, "start", bounds_start, request.authoredOn, _last_updated(request), lifetime=True)
    until = first_day(bounds_end)
    if until is None and duration is not None and duration.value is not None:
        days = doses.days_of(float(duration.value), duration.code or duration.unit)
        if days >= 1:
            until = (when[0] + timedelta(days=int(days) - 1), "", False)
    daily, route = _dosage_dose(dosages, ctx)
    return _medicine(request, ctx, status, when, until, daily, route)


def map_administration(admin: Any, ctx: MappingContext) -> Mapped:
    status = _status(admin, ctx)
    when = _dated(ctx, "administration", admin.effectiveDateTime, period_start(admin.effectivePeriod),
                  period_end(admin.effectivePeriod), _last_updated(admin), lifetime=True)
    until = first_day(admin.effectiveDateTime, period_end(admin.effectivePeriod))
    daily = route = None
    if admin.dosage is not None:
        daily = _daily_mg(admin.dosage.dose, admin.dosage.rateQuantity, None, ctx)
        route = concept_text(admin.dosage.route)
    return _medicine(admin, ctx, status, when, until, daily, route)


# --- Immunization, Consent, Coverage -------------------------------------------------------------------


def map_immunization(imm: Any, ctx: MappingContext) -> Mapped:
    status = _status(imm, ctx)
    mapped = Mapped(subject=imm.patient)
    if imm.occurrenceDateTime is None and imm.occurrenceString and imm.recorded is not None:
        ctx.warn("occurrence given as text: the recorded date is used")
    when = _dated(ctx, "occurrence", imm.occurrenceDateTime, imm.recorded)
    if when is None:
        return mapped
    mapped.facts.append(Vaccination(ctx.source, when[0], codes_of(imm.vaccineCode), status, ctx.revision,
                                    when[1]))
    return _done(mapped, ctx)


_CONSENT = {"active": ConsentState.GIVEN, "rejected": ConsentState.REFUSED,
            "inactive": ConsentState.WITHDRAWN, "entered-in-error": ConsentState.WITHDRAWN}


def map_consent(consent: Any, ctx: MappingContext) -> Mapped:
    status = _status(consent, ctx)
    mapped = Mapped(subject=consent.patient)
    if status not in _CONSENT:
        ctx.warn(f"status {status} records no decision: ignored")
        return mapped
    provision_period = consent.provision.period if consent.provision is not None else None
    when = _dated(ctx, "consent", consent.dateTime, period_start(provision_period))
    if when is None:
        return mapped
    mapped.facts.append(ConsentRecord(ctx.source, when[0], _CONSENT[status], status, ctx.revision, when[1]))
    return mapped


def map_coverage(coverage: Any, ctx: MappingContext) -> Mapped:
    status = _status(coverage, ctx)
    mapped = Mapped(subject=coverage.beneficiary)
    kind = coding_code(coverage.type, MYOCIT_COVERAGE)
    if kind is None:
        kind = next((c.code for c in codes_of(coverage.type)), None) or (
            coverage.type.text if coverage.type is not None and coverage.type.text else "unknown")
        ctx.warn(f"coverage type is not coded in {MYOCIT_COVERAGE}: kept as {kind[:40]!r}")
    when = _dated(ctx, "coverage start", period_start(coverage.period), lifetime=True)
    until = first_day(period_end(coverage.period))
    mapped.facts.append(CoverageRecord(ctx.source, when[0], kind, status, until[0] if until else None,
                                       ctx.revision, when[1]))
    return mapped


MAPPERS: dict[str, Callable[[Any, MappingContext], Mapped]] = {
    "Patient": map_patient,
    "Observation": map_observation,
    "DiagnosticReport": map_report,
    "Condition": map_condition,
    "MedicationStatement": map_statement,
    "MedicationRequest": map_request,
    "MedicationAdministration": map_administration,
    "Immunization": map_immunization,
    "Consent": map_consent,
    "Coverage": map_coverage,
}
