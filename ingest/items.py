"""What a message says, in the words the store takes: who each resource names, what it registers,
and the facts it carries. Every intake path (FHIR, HL7 v2, the pages' forms, and any added later)
produces these, so the store checks and keeps them the same way whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.facts import Fact, PatientProfile


@dataclass(frozen=True)
class Subject:
    """How a message names its patient: by Patient id (``kind`` "id"), or by an identifier ("ident"):
    with a ``system``, a pair unique across sites; without one, a value that names a patient only
    within the sender's sites (contract §13)."""

    kind: str
    value: str
    system: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "id":
            return f"id:{self.value}"
        return f"ident:{self.system or ''}|{self.value}"


@dataclass(frozen=True)
class Registration:
    """A Patient resource: who the patient is, where it is cared for, and how others may name it."""

    id: str
    profile: PatientProfile
    identifiers: tuple[tuple[str | None, str], ...] = ()
    site: str | None = None
    """The site the resource declares (managingOrganization); None: it declares none."""


@dataclass
class Item:
    """One resource (or one HL7 result group) of a message. ``subjects``: every name it gives its
    patient (HL7 PID-3 has several), each of which must find the same child; the first one is the
    key it is kept under while that child is not registered."""

    subjects: tuple[Subject, ...]
    facts: list[Fact] = field(default_factory=list)
    registration: Registration | None = None

    @property
    def subject(self) -> Subject | None:
        return self.subjects[0] if self.subjects else None
