"""Small builders for domain facts, so a test reads like the clinical situation it sets up."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from config.protocol_files import load_protocol
from domain import evaluate
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
from domain.record import PatientRecord
from domain.verdicts import CriterionResult, Screening

AS_OF = date(2026, 12, 1)
_ids = count(1)


def days_before(n: int, as_of: date = AS_OF) -> date:
    return as_of - timedelta(days=n)


def _src(kind: str, source: str | None) -> str:
    return source or f"{kind}/t{next(_ids)}"


def lab(loinc: str, value: float | None = None, unit: str = "", *, on: date = AS_OF, comparator=None,
        answer: Qualitative | None = None, status: str = "final", source: str | None = None,
        sample: str | None = None, revision: int = 0) -> LabResult:
    quantity = Quantity(value, unit, comparator) if value is not None else None
    return LabResult(_src("Observation", source), on, (Code("loinc", loinc),), status, quantity, answer,
                     sample=sample, revision=revision)


def score(code: str, value: float | None = None, *, flag: bool | None = None, on: date = AS_OF,
          source: str | None = None) -> Assessment:
    return Assessment(_src("Observation", source), on, (Code("myocit-assessment", code),), score=value, flag=flag)


def diagnosis(code: str, *, system: str = "icd10", on: date = AS_OF, abated: date | None = None,
              status: str = "active", verification: str = "confirmed", source: str | None = None) -> Diagnosis:
    return Diagnosis(_src("Condition", source), on, (Code(system, code),), status, abated, verification)


def medicine(atc: str, *, on: date = AS_OF, until: date | None = None, dose_mg: float | None = None,
             reasons: tuple[Code, ...] = (), route: str | None = None, status: str = "active",
             source: str | None = None) -> MedicationExposure:
    return MedicationExposure(_src("MedicationStatement", source), on, (Code("atc", atc),), status, until,
                              dose_mg, route, reasons)


def vaccine(code: str, *, system: str = "cvx", on: date = AS_OF, status: str = "completed",
            source: str | None = None) -> Vaccination:
    return Vaccination(_src("Immunization", source), on, (Code(system, code),), status)


def consent(state: ConsentState = ConsentState.GIVEN, *, on: date = AS_OF, source: str | None = None):
    return ConsentRecord(_src("Consent", source), on, state)


def coverage(kind: str, *, on: date = AS_OF, status: str = "active", until: date | None = None,
             source: str | None = None) -> CoverageRecord:
    return CoverageRecord(_src("Coverage", source), on, kind, status, until)


def attest(criterion: str, verdict: str = "pass", *, on: date = AS_OF, source: str | None = None) -> Attestation:
    return Attestation(_src("Observation", source), on, criterion, verdict, "Practitioner/inv-1")


def child(years: int = 10, *, sex: Sex = Sex.MALE, as_of: date = AS_OF, birth: date | None = None) -> PatientProfile:
    born = birth or date(as_of.year - years, as_of.month, 1 if as_of.day == 1 else as_of.day)
    return PatientProfile(born, sex, "site-a")


def screen(facts=(), *, profile: PatientProfile | None = None, as_of: date = AS_OF, protocol=None) -> Screening:
    protocol = protocol or load_protocol()
    record = PatientRecord.build("p-test", profile if profile is not None else child(), facts, protocol)
    return evaluate(record, protocol, as_of)


def finding(cid: str, facts=(), *, profile: PatientProfile | None = None, as_of: date = AS_OF, protocol=None):
    """The rule's own finding, with ``changes_on``, which the screening result does not carry."""
    from domain.context import Context
    from domain.criteria import REGISTRY

    protocol = protocol or load_protocol()
    record = PatientRecord.build("p-test", profile if profile is not None else child(), facts, protocol)
    return REGISTRY[cid].rule(Context(record, protocol, as_of))


def criterion(result: Screening, cid: str) -> CriterionResult:
    return next(c for c in result.criteria if c.id == cid)


def verdict(cid: str, facts=(), **kwargs) -> str:
    return criterion(screen(facts, **kwargs), cid).verdict.value


def eligible_facts(on: date = AS_OF) -> list:
    """Everything a boy of 10 needs for all 34 criteria to pass on ``on``, attestations included."""
    from domain.criteria import CRITERIA

    return [
        score("MMT8", 60, on=on),
        lab("19162-7", answer=Qualitative.POSITIVE, on=on),
        consent(on=on),
        coverage("social-security", on=on),
        lab("14682-9", 45, "umol/L", on=on),
        lab("8302-2", 140, "cm", on=on),
        lab("26474-7", 1.8, "G/L", on=on),
        lab("26499-4", 4.2, "G/L", on=on),
        lab("718-7", 12.1, "g/dL", on=on),
        *(lab(code, answer=Qualitative.NEGATIVE, on=on)
          for code in ("3282-1", "3181-5", "44448-9", "5196-1", "13955-0", "56888-1", "71773-6")),
        lab("4996-5", answer=Qualitative.NEGATIVE, on=on),
        *(attest(c.id, "pass", on=on) for c in CRITERIA if c.attested),
    ]
