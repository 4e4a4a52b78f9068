"""What a message says, in the words the store takes: who each resource names, what it registers,
and the facts it carries. Every intake path (FHIR, HL7 v2, the pages' forms, and any added later)
produces these (``Subject`` and ``Registration`` are the identity rules' own words, from
``domain.identity``), so the store checks and keeps them the same way whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.facts import Fact
from domain.identity import Registration, Subject


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


__all__ = ["Item", "Registration", "Subject"]
