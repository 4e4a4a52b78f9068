"""What an evaluation says: verdicts per criterion, the overall status, and the screening result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from collections.abc import Callable
from typing import NamedTuple

from domain.wording import Said, english, to_json as message_json


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


def said(reason: "str | Said | Callable[[], str | Said]") -> str:
    """A reason as a rule gives it: the text, or how to write it.

    Writing a reason (dates, values, units) costs more than most rules' logic, and many evaluations
    need verdicts only (a shadow run of a protocol version, a status compared), so a rule may hand
    over how to write it: the text is written when the result is stored or shown.
    """
    if type(reason) is str:
        return reason  # type: ignore[return-value]
    message = reason if isinstance(reason, Said) else reason()  # type: ignore[operator]
    return message if type(message) is str else english(message)


def message(reason: "str | Said | Callable[[], str | Said]") -> "Said | str":
    """A reason as a message (contract §18): what the screening stores to write it in any language."""
    if type(reason) is str or isinstance(reason, Said):
        return reason  # type: ignore[return-value]
    return reason()  # type: ignore[operator]


class Finding(NamedTuple):
    """What a criterion rule returns.

    ``until``: for a fail that time alone lifts, the first day it passes.
    ``changes_on``: the first day after ``as_of`` on which this verdict may change with no new data
    (a result going stale, a window ending, a birthday); None when nothing is scheduled.
    ``passes_until``: for a pass that time alone ends (contract §1.2), the last day it still passes.
    """

    verdict: Verdict
    said: "str | Said | Callable[[], str | Said]"
    evidence: tuple[Evidence, ...] = ()
    until: date | None = None
    changes_on: date | None = None
    passes_until: date | None = None

    @property
    def reason(self) -> str:
        return said(self.said)


class CriterionResult(NamedTuple):
    id: str
    kind: Kind
    verdict: Verdict
    said: "str | Said | Callable[[], str | Said]"
    evidence: tuple[Evidence, ...] = ()
    until: date | None = None
    passes_until: date | None = None

    @property
    def reason(self) -> str:
        return said(self.said)

    def __eq__(self, other: object) -> bool:
        """Equal when they say the same: a reason compared as written, not as how to write it."""
        if not isinstance(other, CriterionResult):
            return NotImplemented
        return (self.id, self.verdict, self.evidence, self.until, self.passes_until, self.kind) == \
            (other.id, other.verdict, other.evidence, other.until, other.passes_until, other.kind) \
            and self.reason == other.reason

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self.id, self.verdict, self.evidence, self.until, self.passes_until, self.reason))

    def to_json(self) -> dict:
        body = {
            "id": self.id,
            "kind": self.kind.value,
            "verdict": self.verdict.value,
            "until": self.until.isoformat() if self.until else None,
            "reason": said(self.said),
            "evidence": [e.to_json() for e in self.evidence],
        }
        # Only when set (§3: a passing criterion "may carry" it), so results without a window keep
        # the shape they were stored and signed in (§9).
        if self.passes_until is not None:
            body["passes_until"] = self.passes_until.isoformat()
        return body


@dataclass(frozen=True, slots=True, eq=False)
class Screening:
    """One evaluation of one patient against every criterion, as of a date (contract §3).

    Two screenings are equal when they say the same (reasons compared as written).
    """

    patient: str
    protocol: str
    protocol_version: str
    as_of: date
    status: Status
    eligible_from: date | None
    next_review_at: date | None
    criteria: tuple[CriterionResult, ...] = field(default_factory=tuple)
    eligible_until: date | None = None
    """The last day of the window of opportunity (contract §1.2), for an eligible or waiting child."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Screening) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def reasons(self) -> list:
        """Each criterion's reason as a message (contract §18), in the criteria's order: what is stored
        beside the §3 object so that the screening is written in any language later."""
        return [message_json(message(c.said)) for c in self.criteria]

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
            "eligible_until": self.eligible_until.isoformat() if self.eligible_until else None,
            "next_review_at": self.next_review_at.isoformat() if self.next_review_at else None,
            "criteria": [c.to_json() for c in self.criteria],
        }


def window_closes(results: tuple[CriterionResult, ...]) -> date | None:
    """The earliest ``passes_until``: the last day every pass that time alone ends still holds."""
    ends = [r.passes_until for r in results if r.passes_until is not None]
    return min(ends) if ends else None


def closed_before_open(results: tuple[CriterionResult, ...]) -> list[CriterionResult]:
    """The waiting fails that lift only after the window has closed (contract §1.2): with any of them,
    no day exists on which the child is eligible with no new data."""
    closes = window_closes(results)
    if closes is None:
        return []
    return [r for r in results if r.verdict is Verdict.FAIL and r.until is not None and r.until > closes]


def overall_status(results: tuple[CriterionResult, ...]) -> tuple[Status, date | None]:
    """The contract's precedence, and ``eligible_from`` for a waiting patient."""
    fails = [r for r in results if r.verdict is Verdict.FAIL]
    if any(r.until is None for r in fails) or closed_before_open(results):
        return Status.INELIGIBLE, None
    undecided = any(r.verdict in (Verdict.UNKNOWN, Verdict.REVIEW) for r in results)
    if fails:
        return Status.WAITING, None if undecided else max(r.until for r in fails)  # type: ignore[type-var]
    if undecided:
        return Status.INCOMPLETE, None
    return Status.ELIGIBLE, None


def eligible_until(status: Status, results: tuple[CriterionResult, ...]) -> date | None:
    """§1.2: the earliest ``passes_until`` when the child is eligible or waiting, else None."""
    return window_closes(results) if status in (Status.ELIGIBLE, Status.WAITING) else None
