"""Typed clinical facts: what the rules read.

Every fact names the resource it came from (``source``, e.g. ``Observation/obs-1``), its status in the
source system and the date it is effective on. ``revision`` orders successive versions of the same
source: a higher revision (an amended or corrected result, a retraction) replaces a lower one.
``codes`` keeps every coding the source carried, so the protocol's code lists decide what a fact is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.ucum import shown_unit
from domain.units import human


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Qualitative(StrEnum):
    """A lab's coded answer or interpretation, reduced to what the rules need."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    EQUIVOCAL = "equivocal"


class ConsentState(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


IGNORED_STATUSES = frozenset(
    {
        "entered-in-error", "cancelled", "preliminary", "registered", "not-done", "not-taken", "intended",
        "draft", "proposed",
    }
)
"""Source statuses whose facts never count: retracted, unfinished or never-given (contract §1), and a
Consent still ``draft`` or ``proposed``, which records no decision (contract §1.1)."""


@dataclass(frozen=True, slots=True)
class Code:
    """One coding: a system alias (``loinc``, ``snomed``, ``icd10``, ``atc``, ``cvx``, ...) and a code."""

    system: str
    code: str

    def __str__(self) -> str:
        return f"{self.system} {self.code}"


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str
    comparator: str | None = None

    def __str__(self) -> str:
        # A unit given as free text may carry anything: a reason shows UCUM codes only.
        shown = f"{self.value:g}"
        unit = shown_unit(self.unit)
        return f"{self.comparator or ''}{shown} {human(unit) if unit else ''}".strip()


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """Who the patient is, as far as the rules care. Never logged."""

    birth_date: date | None
    sex: Sex = Sex.UNKNOWN
    site: str | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    """A laboratory or vital-sign observation (also height, weight, pregnancy and breastfeeding status)."""

    source: str
    on: date
    codes: tuple[Code, ...]
    status: str = "final"
    quantity: Quantity | None = None
    qualitative: Qualitative | None = None
    text: str | None = None
    specimen: str | None = None
    sample: str | None = None
    revision: int = 0
    seq: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """A clinician's assessment: MMT8, CMAS (scores) or menarche (a yes/no)."""

    source: str
    on: date
    codes: tuple[Code, ...]
    status: str = "final"
    score: float | None = None
    flag: bool | None = None
    revision: int = 0
    seq: str = ""
    comparator: str | None = None
    """A score given as a quantity may carry one (``<74``); it is then read as every value it allows."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A condition, current or past. ``on`` is the onset date, else the recorded date."""

    source: str
    on: date
    codes: tuple[Code, ...]
    status: str = "active"
    abated: date | None = None
    verification: str = "confirmed"
    revision: int = 0
    seq: str = ""


@dataclass(frozen=True, slots=True)
class MedicationExposure:
    """A medicine taken, given or prescribed. ``on`` is the first day, ``until`` the last (if ended)."""

    source: str
    on: date
    codes: tuple[Code, ...]
    status: str = "active"
    until: date | None = None
    daily_dose_mg: float | None = None
    route: str | None = None
    reasons: tuple[Code, ...] = ()
    name: str | None = None
    revision: int = 0
    seq: str = ""


@dataclass(frozen=True, slots=True)
class Vaccination:
    source: str
    on: date
    codes: tuple[Code, ...]
    status: str = "completed"
    revision: int = 0
    seq: str = ""


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    source: str
    on: date
    state: ConsentState
    status: str = "active"
    revision: int = 0
    seq: str = ""


@dataclass(frozen=True, slots=True)
class CoverageRecord:
    """Insurance: ``kind`` is ``social-security``, ``ame`` or anything else the source said."""

    source: str
    on: date
    kind: str
    status: str = "active"
    until: date | None = None
    revision: int = 0
    seq: str = ""

    @property
    def codes(self) -> tuple[Code, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Attestation:
    """An investigator's judgement on one criterion: ``pass`` or ``fail``, with a justification."""

    source: str
    on: date
    criterion: str
    verdict: str
    performer: str | None = None
    note: str | None = None
    status: str = "final"
    revision: int = 0
    seq: str = ""

    @property
    def codes(self) -> tuple[Code, ...]:
        return ()


Fact = (
    LabResult
    | Assessment
    | Diagnosis
    | MedicationExposure
    | Vaccination
    | ConsentRecord
    | CoverageRecord
    | Attestation
)
