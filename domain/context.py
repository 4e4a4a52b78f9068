"""Reading a patient's record as of a date: the only view a criterion rule gets."""

from __future__ import annotations

from datetime import date, timedelta

from domain.facts import Attestation, ConsentRecord, CoverageRecord, PatientProfile
from domain.protocol import Protocol
from domain.record import PatientRecord

ONE_DAY = timedelta(days=1)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February falls back to 28 February (contract §1.1,
    CQL's date arithmetic)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def completed_years(birth: date, on: date) -> int:
    """Birthdays reached by ``on``, each one ``add_years`` from birth: a child born on 29 February
    turns a year older on 28 February in a year without a 29th, the day INC-AGE counts from."""
    years = on.year - birth.year
    return years - 1 if add_years(birth, years) > on else years


class Context:
    """``record`` as of ``as_of``: facts dated after it are invisible."""

    __slots__ = ("record", "protocol", "as_of")

    def __init__(self, record: PatientRecord, protocol: Protocol, as_of: date) -> None:
        self.record = record
        self.protocol = protocol
        self.as_of = as_of

    @property
    def profile(self) -> PatientProfile | None:
        return self.record.profile

    def all(self, code_list: str) -> list:
        """Facts in a protocol code list, newest first, dated on or before ``as_of``."""
        facts = self.record.by_list[code_list]
        as_of = self.as_of
        if not facts or facts[0].on <= as_of:
            return facts
        return [f for f in facts if f.on <= as_of]

    def latest(self, code_list: str):
        as_of = self.as_of
        for fact in self.record.by_list[code_list]:
            if fact.on <= as_of:
                return fact
        return None

    def attestation(self, criterion: str) -> Attestation | None:
        as_of = self.as_of
        for fact in self.record.attestations.get(criterion, ()):
            if fact.on <= as_of:
                return fact
        return None

    def consents(self) -> list[ConsentRecord]:
        return [c for c in self.record.consents if c.on <= self.as_of]

    def coverages(self) -> list[CoverageRecord]:
        return [c for c in self.record.coverages if c.on <= self.as_of]

    def days_before(self, day: date) -> int:
        return (self.as_of - day).days

    def within(self, day: date, window_days: int) -> bool:
        """Inclusive window: an event on ``as_of - window_days`` is inside (contract §1, Time)."""
        return 0 <= (self.as_of - day).days <= window_days

    @staticmethod
    def window_end(day: date, window_days: int) -> date:
        """The first day an event on ``day`` no longer falls inside the window: ``day + N + 1``."""
        return day + timedelta(days=window_days + 1)

    def fresh(self, day: date, validity_days: int | None) -> bool:
        return validity_days is None or (self.as_of - day).days <= validity_days

    @staticmethod
    def stale_on(day: date, validity_days: int | None) -> date | None:
        """The first day a result dated ``day`` is stale, or None if it never goes stale."""
        return None if validity_days is None else day + timedelta(days=validity_days + 1)

    def age(self) -> int | None:
        profile = self.record.profile
        if profile is None or profile.birth_date is None:
            return None
        return completed_years(profile.birth_date, self.as_of)
