"""evaluate(record, protocol, as_of) -> Screening: every criterion, the status, the next review."""

from __future__ import annotations

from datetime import date

from domain.context import Context
from domain.criteria import CRITERIA
from domain.protocol import Protocol
from domain.record import PatientRecord
from domain.verdicts import CriterionResult, Screening, Verdict, overall_status


def evaluate(record: PatientRecord, protocol: Protocol, as_of: date) -> Screening:
    """Screen one patient as of ``as_of`` (the planned inclusion, baseline and first-dose day).

    ``next_review_at`` is the earliest day after ``as_of`` on which a verdict can change with no
    new data: a window ends, a result goes stale, a birthday, or a fact already held becomes dated
    on or before the evaluation day.
    """
    ctx = Context(record, protocol, as_of)
    results = []
    next_review = record.first_fact_after(as_of)
    for crit in CRITERIA:
        found = crit.rule(ctx)
        until = found.until if found.verdict is Verdict.FAIL else None
        results.append(CriterionResult(crit.id, crit.kind, found.verdict, found.said, found.evidence, until))
        change = found.changes_on
        if change is not None and change > as_of and (next_review is None or change < next_review):
            next_review = change
    criteria = tuple(results)
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
    )
