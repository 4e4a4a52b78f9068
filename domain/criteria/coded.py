"""How the rules of the child's history and medications read coded facts: which code put a fact in a
code list, whether a diagnosis is still going on, what a medication list says was taken, and several
signals told as one finding."""

from __future__ import annotations

from domain.wording import Figures, joined, said_as, term

from domain.context import Context
from domain.facts import Code, Diagnosis, MedicationExposure
from domain.verdicts import Finding, Verdict, message

CURRENT_STATUSES = frozenset({"active", "recurrence", "relapse"})
"""Clinical statuses of a diagnosis that is still going on (FHIR Condition.clinicalStatus)."""

NOT_TAKEN = frozenset({"not-taken", "intended", "draft"})
"""Medication statuses that record a plan or a refusal, not an exposure: a drafted baricitinib
prescription for the trial itself must not read as a previous JAK inhibitor."""

_SYSTEM_NAMES = {"icd10": "ICD-10", "atc": "ATC", "snomed": "SNOMED CT", "cvx": "CVX", "loinc": "LOINC"}


def shown_code(code: Code) -> str:
    return f"{_SYSTEM_NAMES.get(code.system, code.system.upper())} {code.code}"


def matched_code(ctx: Context, code_list: str, fact) -> str:
    """The fact's code that put it in ``code_list``, as a reader would write it."""
    code = ctx.protocol.codesets[code_list].matches(fact.codes) or (fact.codes[0] if fact.codes else None)
    return shown_code(code) if code is not None else term("uncoded")


def days_in_words(n: int) -> str:
    return said_as("1 day") if n == 1 else said_as("{n} days", n=n)


def and_more(facts: list) -> str:
    return said_as(" (and {count} more)", count=len(facts) - 1) if len(facts) > 1 else ""


def is_current(ctx: Context, dx: Diagnosis) -> bool:
    return dx.status in CURRENT_STATUSES and (dx.abated is None or dx.abated > ctx.as_of)


def taken(ctx: Context, code_list: str) -> list[MedicationExposure]:
    return [m for m in ctx.all(code_list) if m.status not in NOT_TAKEN]


def combined_finding(found: list[Finding], changes_on=None) -> Finding | None:
    """One finding from several signals: fail, then unknown, then review; reasons joined."""
    for verdict in (Verdict.FAIL, Verdict.UNKNOWN, Verdict.REVIEW):
        same = [f for f in found if f.verdict is verdict]
        if same:
            evidence = tuple(dict.fromkeys(e for f in same for e in f.evidence))
            reason = joined(message(f.said) for f in same)
            return Finding(verdict, reason, evidence, None, changes_on)
    return None


def put_to_review(signals: list[Finding], question: str) -> Finding | None:
    """Signals that do not decide on their own, put to the investigator as one review."""
    finding = combined_finding(signals)
    if finding is None:
        return None
    return Finding(
        Verdict.REVIEW, lambda: said_as('{reason}: {question}', reason=finding.reason, question=question), finding.evidence, None, finding.changes_on
    )
