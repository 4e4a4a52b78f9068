"""When a screening raises an alert (contract §5): "An alert is raised when a patient's overall status
changes, once per change." Decided here, from the stored status before and the new screening; the
service layer stores what this returns.

- A child's first stored screening raises one when it is eligible or waiting: a new candidate, with
  no status it changed from (``from_status`` None). An incomplete or ineligible first screening
  raises none.
- A refused or withdrawn consent (INC-CONSENT fails) ends the child's screening for the site: alerts
  stop from that screening on, including the status change the refusal itself causes, and never
  restart by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.verdicts import Screening, Status, Verdict

CONSENT = "INC-CONSENT"


@dataclass(frozen=True)
class EligibilityChanged:
    """The child's overall status changed: one alert, naming the criteria whose verdict changed.
    ``from_status`` None: the child's first screening made it a new candidate."""

    from_status: str | None
    to_status: str
    changed: tuple[str, ...]
    confirmed: bool = False
    """The child had a standing signed confirmation (contract §9) that this change overturns."""


@dataclass(frozen=True)
class AlertsStopped:
    """Consent was refused or withdrawn: no alert for this child from here on."""


Event = EligibilityChanged | AlertsStopped

NEW_CANDIDATE = frozenset({Status.ELIGIBLE, Status.WAITING})
"""First statuses coordinators are told of: eligible now, or on a date time alone brings."""


def change_said(from_status: str | None, to_status: str) -> str:
    """An alert's change in words, one wording for pages, email and webhook: a new candidate has no
    status it changed from."""
    return f"new candidate: {to_status}" if from_status is None else f"{from_status} → {to_status}"


def status_changed(stored_status: str | None, screening: Screening) -> bool:
    """Whether the stored status changed (the service reads the previous verdicts only then)."""
    return stored_status is not None and stored_status != screening.status.value


def decide(stored_status: str | None, alerts_stopped: bool, screening: Screening,
           previous_verdicts: Mapping[str, str] | None = None, *, confirmed: bool = False) -> list[Event]:
    """The events a newly stored ``screening`` raises. ``stored_status``: the status stored before it
    (None for a first screening); ``previous_verdicts``: the verdict of each criterion in that stored
    screening, by id (needed when the status changed); ``confirmed``: the child's eligibility had a
    signed confirmation still standing (contract §9), so a change away from eligible overturns it."""
    if alerts_stopped:
        return []
    if screening.verdicts().get(CONSENT) is Verdict.FAIL:
        return [AlertsStopped()]
    if stored_status is None:
        if screening.status in NEW_CANDIDATE:
            return [EligibilityChanged(None, screening.status.value, ())]
        return []
    if not status_changed(stored_status, screening):
        return []
    before = previous_verdicts or {}
    changed = tuple(c.id for c in screening.criteria if before.get(c.id) != c.verdict.value)
    overturned = confirmed and screening.status is not Status.ELIGIBLE
    return [EligibilityChanged(stored_status, screening.status.value, changed, overturned)]
