"""evaluate(record, protocol, as_of) -> Screening: every criterion, the status, the window, the next
review."""

from __future__ import annotations

from datetime import date, timedelta

from domain.context import Context
from domain.criteria import CRITERIA
from domain.protocol import Protocol
from domain.record import PatientRecord
from domain.verdicts import (
    CriterionResult,
    Screening,
    Verdict,
    closed_before_open,
    eligible_until,
    message,
    overall_status,
    window_closes,
)
from domain.wording import said_as

ONE_DAY = timedelta(days=1)


def evaluate(record: PatientRecord, protocol: Protocol, as_of: date) -> Screening:
    """Screen one patient as of ``as_of`` (the planned inclusion, baseline and first-dose day).

    ``next_review_at`` is the earliest day after ``as_of`` on which a verdict can change with no
    new data: a window ends, a result goes stale, a birthday, the day after a pass ends (§1.2), or a
    fact already held becomes dated on or before the evaluation day.
    """
    ctx = Context(record, protocol, as_of)
    results = []
    next_review = record.first_fact_after(as_of)
    for crit in CRITERIA:
        found = crit.rule(ctx)
        until = found.until if found.verdict is Verdict.FAIL else None
        passes_until = found.passes_until if found.verdict is Verdict.PASS else None
        results.append(
            CriterionResult(crit.id, crit.kind, found.verdict, found.said, found.evidence, until, passes_until)
        )
        for change in (found.changes_on, passes_until + ONE_DAY if passes_until is not None else None):
            if change is not None and change > as_of and (next_review is None or change < next_review):
                next_review = change
    criteria = _closing_windows_said(tuple(results))
    status, eligible_from = overall_status(criteria)
    return Screening(
        patient=record.patient,
        protocol=protocol.protocol,
        protocol_version=protocol.version,
        as_of=as_of,
        status=status,
        eligible_from=eligible_from,
        next_review_at=next_review,
        criteria=criteria,
        eligible_until=eligible_until(status, criteria),
    )


def _closing_windows_said(criteria: tuple[CriterionResult, ...]) -> tuple[CriterionResult, ...]:
    """A waiting fail that lifts only after the window has closed says which window closes first
    (contract §1.2): the reader sees why time alone cannot make the child eligible."""
    blocking = closed_before_open(criteria)
    if not blocking:
        return criteria
    closes = window_closes(criteria)
    first = next(c for c in criteria if c.passes_until == closes)

    def with_window(item: CriterionResult) -> CriterionResult:
        return item._replace(said=lambda: said_as(
            "{reason}; the window closes first: {criterion} passes only until {until}, "
            "so no day is left on which the child is eligible",
            reason=message(item.said), criterion=first.id, until=closes))

    blocked = {c.id for c in blocking}
    return tuple(with_window(c) if c.id in blocked else c for c in criteria)
