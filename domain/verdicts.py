"""What an evaluation says: verdicts per criterion, the overall status, and the screening result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple


class Verdict(StrEnum):
    """A criterion's verdict, always seen from eligibility (contract §1)."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    REVIEW = "review"


class Kind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class Status(StrEnum):
    """Overall status, by precedence: ineligible > waiting > incomplete > eligible."""

    INELIGIBLE = "ineligible"
    WAITING = "waiting"
    INCOMPLETE = "incomplete"
    ELIGIBLE = "eligible"


# Evidence, Finding and CriterionResult are built dozens of times per evaluation: immutable named
# tuples cost a quarter of what frozen dataclasses do to construct.


class Evidence(NamedTuple):
    """A resource a verdict rests on, with the date that mattered."""

    resource: str
    date: date | None = None

    def to_json(self) -> dict:
        return {"resource": self.resource, "date": self.date.isoformat() if self.date else None}


class Finding(NamedTuple):
    """What a criterion rule returns.

    ``until``: for a fail that time alone lifts, the first day it passes.
    ``changes_on``: the first day after ``as_of`` on which this verdict may change with no new data
    (a result going stale, a window ending, a birthday); None when nothing is scheduled.
    """

    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...] = ()
    until: date | None = None
    changes_on: date | None = None


class CriterionResult(NamedTuple):
    id: str
    kind: Kind
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...] = ()
    until: date | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "verdict": self.verdict.value,
            "until": self.until.isoformat() if self.until else None,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Screening:
    """One evaluation of one patient against every criterion, as of a date (contract §3)."""

    patient: str
    protocol: str
    protocol_version: str
    as_of: date
    status: Status
    eligible_from: date | None
    next_review_at: date | None
    criteria: tuple[CriterionResult, ...] = field(default_factory=tuple)

    def verdicts(self) -> dict[str, Verdict]:
        return {c.id: c.verdict for c in self.criteria}

    def to_json(self) -> dict:
        return {
            "patient": self.patient,
            "protocol": self.protocol,
            "protocol_version": self.protocol_version,
            "as_of": self.as_of.isoformat(),
            "status": self.status.value,
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
            "next_review_at": self.next_review_at.isoformat() if self.next_review_at else None,
            "criteria": [c.to_json() for c in self.criteria],
        }


def overall_status(results: tuple[CriterionResult, ...]) -> tuple[Status, date | None]:
    """The contract's precedence, and ``eligible_from`` for a waiting patient."""
    fails = [r for r in results if r.verdict is Verdict.FAIL]
    if any(r.until is None for r in fails):
        return Status.INELIGIBLE, None
    undecided = any(r.verdict in (Verdict.UNKNOWN, Verdict.REVIEW) for r in results)
    if fails:
        return Status.WAITING, None if undecided else max(r.until for r in fails)  # type: ignore[type-var]
    if undecided:
        return Status.INCOMPLETE, None
    return Status.ELIGIBLE, None
