"""What the pages say about a stored screening result: the to-do list, what blocks, the timeline.

Plain functions over the result JSON (contract §3), so the wording is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from config.language import gettext as _
from domain.criteria import CRITERIA
from domain.criteria.base import ATTESTED_WORDS

ATTESTED = frozenset(c.id for c in CRITERIA if c.attested)
KINDS = {c.id: c.kind for c in CRITERIA}
ATTESTATION = "Investigator attestation"
STATUSES = ("eligible", "waiting", "incomplete", "ineligible")


@dataclass
class Todo:
    """One thing to do, and the criteria it resolves."""

    action: str
    criteria: list[str] = field(default_factory=list)


def todos(result: dict) -> list[Todo]:
    """Which test or attestation resolves which criteria, from the unknown and review verdicts.

    An attested criterion still waiting for its attestation needs exactly that; anything else is
    worded by its own reason, which names the missing or stale test, or what to review. Criteria
    sharing a reason share a line.
    """
    found: dict[str, Todo] = {}
    for criterion in result.get("criteria", []):
        verdict, cid, reason = criterion["verdict"], criterion["id"], criterion["reason"]
        if verdict not in ("unknown", "review"):
            continue
        if cid in ATTESTED and verdict == "unknown" and _needs_attestation(reason):
            action = _(ATTESTATION)
        elif verdict == "review":
            action = _("Review: {reason}").format(reason=reason)
        else:
            action = reason
        found.setdefault(action, Todo(action)).criteria.append(cid)
    return sorted(found.values(), key=lambda t: (t.action != _(ATTESTATION), t.action))


def _needs_attestation(reason: str) -> bool:
    """The reason asks for an investigator's attestation (in the page's language)."""
    return "attestation" in reason.lower()


def _closes(result: dict) -> str | None:
    """The earliest ``passes_until`` of the result's criteria (contract §1.2), ISO."""
    ends = [c["passes_until"] for c in result.get("criteria", []) if c.get("passes_until")]
    return min(ends) if ends else None


def _lifts_too_late(criterion: dict, closes: str | None) -> bool:
    return closes is not None and criterion["until"] > closes


def blocking(result: dict) -> list[dict]:
    """Fails that time alone will not lift: why the child is ineligible. A fail that lifts only after
    the window has closed is one of them (contract §1.2)."""
    closes = _closes(result)
    return [c for c in result.get("criteria", [])
            if c["verdict"] == "fail" and (not c.get("until") or _lifts_too_late(c, closes))]


def timed(result: dict) -> list[dict]:
    """Fails that lift on a date: why the child is waiting."""
    closes = _closes(result)
    return [c for c in result.get("criteria", [])
            if c["verdict"] == "fail" and c.get("until") and not _lifts_too_late(c, closes)]


@dataclass(frozen=True)
class Window:
    """When the window of opportunity closes (contract §1.2), and the criterion that closes it."""

    until: str
    criterion: str
    reason: str


def window(result: dict) -> Window | None:
    """The result's ``eligible_until`` with the pass that ends then, for an eligible or waiting child."""
    until = result.get("eligible_until")
    if not until:
        return None
    closing = next((c for c in result.get("criteria", []) if c.get("passes_until") == until), None)
    return Window(until, closing["id"], closing["reason"]) if closing else Window(until, "", "")


def becomes_eligible(result: dict) -> tuple[str, str | None]:
    """The date a waiting child becomes eligible, or when it is looked at again if that is not known."""
    if result.get("eligible_from"):
        return _("eligible from"), result["eligible_from"]
    return _("next automatic review"), result.get("next_review_at")


def age(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Event:
    """A line of the timeline; ``details``, when there are any, are what the line opens to."""

    at: datetime
    what: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attested:
    """An attestation as the timeline tells it (``change``: the reason it replaces an earlier one)."""

    at: datetime
    criterion: str
    verdict: str
    performer: str | None
    change: str | None = None


def attestation_events(attested: list[Attested], name: Callable[[str], str]) -> list[Event]:
    """One line per message: the attestations one form or one bundle recorded together open from a
    single line, each worded by its criterion's kind (an exclusion "applies", an inclusion "is met")."""
    by_message: dict[datetime, list[Attested]] = {}
    for one in attested:  # the facts of one message share its received time
        by_message.setdefault(one.at, []).append(one)
    events = []
    for at, together in by_message.items():
        said = [_attested(one, name) for one in together]
        if len(said) == 1:
            events.append(Event(at, _("attestation: {said}").format(said=said[0])))
            continue
        people = sorted({one.performer for one in together if one.performer})
        events.append(Event(at, _("{count} attestations recorded together").format(count=len(said))
                                + (_(" by {people}").format(people=", ".join(people)) if people else ""), tuple(said)))
    return events


def _attested(one: Attested, name: Callable[[str], str]) -> str:
    kind = KINDS.get(one.criterion)
    words = ATTESTED_WORDS.get((kind, one.verdict), one.verdict) if kind is not None else one.verdict
    return (f"{name(one.criterion)} ({one.criterion}) {_(words)} ({_(one.verdict)})"
            + (_(" by {people}").format(people=one.performer) if one.performer else "")
            + (_(" — reason for change: {change}").format(change=one.change) if one.change else ""))


def status_changes(screenings: list[tuple[datetime, date, str, str]]) -> list[Event]:
    """Screenings (created_at, as_of, status, trigger), oldest first, reduced to the changes."""
    events, before = [], None
    for at, as_of, status, trigger in screenings:
        if status != before:
            cause = _("scheduled re-screening") if trigger == "schedule" else _("new data")
            what = _("first screened: {status}").format(status=_(status)) if before is None \
                else f"{_(before)} → {_(status)}"
            events.append(Event(at, _("{what} (as of {as_of}, {cause})").format(what=what, as_of=as_of.isoformat(),
                                                                               cause=cause)))
            before = status
    return events
