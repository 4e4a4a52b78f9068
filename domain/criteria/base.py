"""What a criterion is: an id, a kind, and a small rule whose docstring quotes the protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Callable, NamedTuple

from domain.context import Context
from domain.verdicts import Evidence, Finding, Kind, Verdict, message
from domain.wording import Said, said_as, term


class ForAttestation(NamedTuple):
    """The recorded data do not settle an attested criterion: the investigator's attestation decides.

    ``signal``: a review the data ask the investigator to settle, if any; ``beside``: evidence shown
    next to whatever the attestation decides, which decides nothing itself.
    """

    signal: Finding | None = None
    beside: tuple[Evidence, ...] = ()


Rule = Callable[[Context], Finding]
AttestedRule = Callable[[Context], "Finding | ForAttestation"]
"""An attested criterion's rule as written; the registry holds it as a ``Rule``, attestation weighed."""

REGISTRY: dict[str, "Criterion"] = {}


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    kind: Kind
    rule: Rule
    attested: bool
    """True when an investigator's attestation is needed to pass it (contract §1)."""

    @property
    def protocol_text(self) -> str:
        return (self.rule.__doc__ or "").strip()


def criterion(cid: str, kind: Kind, *, attested: bool = False) -> Callable[[AttestedRule], AttestedRule]:
    """Register ``rule`` as the criterion ``cid``.

    The rule of an attested criterion returns a finding when the recorded data settle it on their own
    (a fail, which outranks any attestation, or a pass or unknown saying whether it applies at all),
    else ``attestation_decides(...)``; the registry then weighs the attestation (``judged``).
    """

    def register(rule: AttestedRule) -> AttestedRule:
        if cid in REGISTRY:
            raise ValueError(f"criterion {cid} registered twice")
        if not rule.__doc__:
            raise ValueError(f"criterion {cid} must quote its protocol sentence in a docstring")
        decides = _with_attestation(cid, kind, rule) if attested else rule
        REGISTRY[cid] = Criterion(cid, kind, decides, attested)  # type: ignore[arg-type]
        return rule

    return register


def _with_attestation(cid: str, kind: Kind, rule: AttestedRule) -> Rule:
    @wraps(rule)
    def decided(ctx: Context) -> Finding:
        found = rule(ctx)
        if not isinstance(found, ForAttestation):
            return found
        judgement = judged(ctx, cid, found.signal, kind)
        return judgement._replace(evidence=judgement.evidence + found.beside) if found.beside else judgement

    return decided


def attestation_decides(signal: Finding | None = None, *beside) -> ForAttestation:
    """Leave an attested criterion to the investigator, with the review its data call for and facts
    to show beside the decision."""
    return ForAttestation(signal, evidence(*beside))


def evidence(*facts) -> tuple[Evidence, ...]:
    """Evidence entries for facts (anything with ``source`` and ``on``), skipping None."""
    return tuple([Evidence(f.source, f.on) for f in facts if f is not None])


def passes(reason, *facts, changes_on: date | None = None, passes_until: date | None = None) -> Finding:
    """``passes_until``: the last day a pass that time alone ends still holds (contract §1.2)."""
    return Finding(Verdict.PASS, reason, evidence(*facts), None, changes_on, passes_until)


def fails(reason, *facts, until: date | None = None, changes_on: date | None = None) -> Finding:
    return Finding(Verdict.FAIL, reason, evidence(*facts), until, until or changes_on)


def unknown(reason, *facts, changes_on: date | None = None) -> Finding:
    return Finding(Verdict.UNKNOWN, reason, evidence(*facts), None, changes_on)


def review(reason, *facts, changes_on: date | None = None) -> Finding:
    return Finding(Verdict.REVIEW, reason, evidence(*facts), None, changes_on)


def earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


ATTESTED_WORDS = {
    # (kind, the investigator's verdict seen from eligibility) -> what they attested, in the
    # protocol's own terms: an exclusion that passes is one that does not apply to the child.
    (Kind.INCLUSION, "pass"): "is met",
    (Kind.INCLUSION, "fail"): "is not met",
    (Kind.EXCLUSION, "pass"): "does not apply",
    (Kind.EXCLUSION, "fail"): "applies",
}


def attested_reason(kind: Kind, verdict: str, on: date) -> Said:
    """The reason an attestation gives, worded by the criterion's kind."""
    return said_as("Investigator attested that this criterion {attested} on {on}",
                   attested=term(ATTESTED_WORDS[(kind, verdict)]), on=on)


def judged(ctx: Context, cid: str, from_data: Finding | None, kind: Kind) -> Finding:
    """Combine what recorded data says with the investigator's attestation.

    Recorded data that fails a criterion outranks an attestation that passes it (contract §1).
    Data that calls for review is settled by an attestation dated on or after the data's latest
    evidence. Otherwise a fresh attestation decides; without one the criterion is unknown.
    The attestation's free-text justification stays in the source resource, never in the reason,
    which travels into alerts.
    """
    if from_data is not None and from_data.verdict is Verdict.FAIL:
        return from_data
    note = ctx.attestation(cid)
    validity = ctx.protocol.validity.attestation
    if note is not None and not ctx.fresh(note.on, validity):
        stale = said_as("the investigator's attestation of {on} is older than {days} days", on=note.on, days=validity)
        if from_data is not None:
            return Finding(from_data.verdict, lambda: said_as("{reason}; {stale}", reason=message(from_data.said),
                                                              stale=stale),
                           from_data.evidence + evidence(note), None, from_data.changes_on)
        return unknown(lambda: said_as("Needs a new investigator attestation: {stale}", stale=stale), note)
    if note is None:
        if from_data is not None:
            return from_data
        return unknown(said_as("Needs an investigator attestation"))
    if from_data is not None and from_data.verdict is Verdict.REVIEW:
        newest = max((e.date for e in from_data.evidence if e.date), default=None)
        if newest is not None and note.on < newest:
            return Finding(
                Verdict.REVIEW,
                lambda: said_as("{reason}; the attestation of {on} predates it", reason=message(from_data.said),
                                on=note.on),
                from_data.evidence + evidence(note),
                None,
                from_data.changes_on,
            )
    stale_on = ctx.stale_on(note.on, validity)
    if note.verdict == "fail":
        return fails(
            lambda: attested_reason(kind, "fail", note.on), note,
            changes_on=stale_on,
        )
    extra = from_data.evidence if from_data is not None else ()
    return Finding(
        Verdict.PASS,
        lambda: attested_reason(kind, "pass", note.on),
        (Evidence(note.source, note.on), *extra),
        None,
        stale_on,
    )
