"""A patient's facts, resolved and indexed once, then read by every evaluation.

Building a record settles what the facts are, whatever order they arrived in:
- successive versions of one resource keep only the highest revision (amended or corrected results
  replace what they update; a retraction replaces it with nothing, a later final version with itself);
- facts whose status says they never count (entered-in-error, cancelled, preliminary, ...) drop out;
- each fact is filed under every protocol code list its codes belong to, newest first.
Reading a record as of a date (``Context``) skips what is dated after that date.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from domain.facts import (
    IGNORED_STATUSES,
    Assessment,
    Attestation,
    ConsentRecord,
    CoverageRecord,
    Diagnosis,
    Fact,
    LabResult,
    MedicationExposure,
    PatientProfile,
    Vaccination,
)
from domain.protocol import Protocol

_FAMILIES: dict[type, tuple[str, ...]] = {
    LabResult: ("lab.", "vital.", "obs."),
    Assessment: ("assessment.",),
    Diagnosis: ("dx.",),
    MedicationExposure: ("med.",),
    Vaccination: ("vax.",),
}
_REFUTED = frozenset({"refuted", "entered-in-error"})


def _newest_first(fact: Fact) -> tuple:
    return (fact.on, fact.seq, fact.source)


def resource_of(source: str) -> str:
    """The resource a fact came from: ``Observation/o1`` for its component ``Observation/o1#component-0``."""
    return source.partition("#")[0]


def current_facts(facts: Iterable[Fact]) -> list[Fact]:
    """The facts that count: those of each resource's latest version, minus ignored statuses.

    The latest stored version of a resource governs all of it (contract §1.1): when it is
    entered-in-error nothing of any earlier version stands, not even a component or a contained
    result that the retraction no longer lists, and a later final version makes it stand again.
    """
    facts = list(facts)
    newest: dict[str, int] = {}
    for fact in facts:
        root = resource_of(fact.source)
        if root not in newest or fact.revision > newest[root]:
            newest[root] = fact.revision
    latest: dict[tuple[str, str], Fact] = {}
    for fact in facts:
        if fact.revision != newest[resource_of(fact.source)]:
            continue
        key = (type(fact).__name__, fact.source)
        held = latest.get(key)
        # Equal revisions of one source are duplicates; the content breaks the tie so that the
        # result never depends on arrival order.
        if held is None or (fact.seq, repr(fact)) > (held.seq, repr(held)):
            latest[key] = fact
    kept = []
    for fact in latest.values():
        if fact.status in IGNORED_STATUSES:
            continue
        if isinstance(fact, Diagnosis) and fact.verification in _REFUTED:
            continue
        kept.append(fact)
    return kept


@dataclass(slots=True)
class PatientRecord:
    patient: str
    profile: PatientProfile | None
    protocol: Protocol
    by_list: dict[str, list] = field(default_factory=dict)
    attestations: dict[str, list[Attestation]] = field(default_factory=dict)
    consents: list[ConsentRecord] = field(default_factory=list)
    coverages: list[CoverageRecord] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        patient: str,
        profile: PatientProfile | None,
        facts: Iterable[Fact],
        protocol: Protocol,
    ) -> "PatientRecord":
        record = cls(patient, profile, protocol)
        sets = protocol.codesets
        by_list: dict[str, list] = {name: [] for name in sets}
        dates = set()
        for fact in current_facts(facts):
            dates.add(fact.on)
            kind = type(fact)
            if kind is Attestation:
                record.attestations.setdefault(fact.criterion, []).append(fact)
            elif kind is ConsentRecord:
                record.consents.append(fact)
            elif kind is CoverageRecord:
                record.coverages.append(fact)
            else:
                for name in protocol.classify(_FAMILIES[kind], fact.codes):
                    by_list[name].append(fact)
        for bucket in (*by_list.values(), *record.attestations.values(), record.consents, record.coverages):
            bucket.sort(key=_newest_first, reverse=True)
        record.by_list = by_list
        record.dates = sorted(dates)
        return record

    def first_fact_after(self, day: date) -> date | None:
        """The first date after ``day`` on which a fact already held becomes visible."""
        i = bisect_right(self.dates, day)
        return self.dates[i] if i < len(self.dates) else None
