"""What an alert says, to a coordinator's mailbox or to a site's system.

Only the screening id (the FHIR Patient id, which the sites map back to the child themselves) leaves
the service: never a name, a birth date or a record number. The reasons are the criteria's own
sentences; the age criterion's ("turns 3 on 2027-01-15") would give the birth date away, so any date
falling on the child's birthday is withheld, and so is a window of opportunity (contract §1.2) that
closes the day before one (the age limit's last day).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote

from domain.alerting import change_said
from domain.units import in_human_units

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
WITHHELD = "[date withheld]"


@dataclass(frozen=True)
class AlertContent:
    alert: int
    screening_id: str
    from_status: str | None
    """None for a new candidate: the child's first screening, eligible or waiting (contract §5)."""
    to_status: str
    changed: list[str]
    criteria: list[dict]
    created_at: datetime
    birth_date: date | None = None
    confirmed: bool = False
    """A signed confirmation of the child's eligibility (contract §9) is overturned by this change."""
    eligible_until: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    """Criterion id -> its short name in the protocol version in force (``criteria.yaml``)."""
    """The screening's last day of the window of opportunity (contract §1.2), ISO, if any."""


OVERTURNED = ("WARNING: an investigator's signed confirmation of this child's eligibility has been overturned "
              "by data received after it was signed. Do not enrol or dose the child on that confirmation.")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    data: dict

    def body(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _birthdays(born: date | None) -> set[tuple[int, int]]:
    if born is None:
        return set()
    # Outside leap years a 29 February birthday is kept on the 28th or the 1st, depending on the rule.
    return {(2, 29), (2, 28), (3, 1)} if (born.month, born.day) == (2, 29) else {(born.month, born.day)}


def scrub(reason: str, born: date | None) -> str:
    days = _birthdays(born)
    return _ISO_DATE.sub(lambda m: WITHHELD if (int(m[2]), int(m[3])) in days else m[0], reason)


def _window(content: AlertContent) -> dict | None:
    """The last day of the window and the criterion that closes it, as an alert may show them."""
    if not content.eligible_until:
        return None
    closing = next((c for c in content.criteria if c.get("passes_until") == content.eligible_until), {})
    last_day = date.fromisoformat(content.eligible_until)
    before_birthday = ((last_day + timedelta(days=1)).month, (last_day + timedelta(days=1)).day)
    shown = WITHHELD if before_birthday in _birthdays(content.birth_date) else content.eligible_until
    return {"eligible_until": shown, "closed_by": closing.get("id"),
            "reason": scrub(closing.get("reason", ""), content.birth_date)}


def _changes(content: AlertContent) -> list[dict]:
    by_id = {c["id"]: c for c in content.criteria}
    return [
        {"id": cid, **({"name": content.names[cid]} if cid in content.names else {}),
         "verdict": by_id.get(cid, {}).get("verdict"),
         "reason": in_human_units(scrub(by_id.get(cid, {}).get("reason", ""), content.birth_date))}
        for cid in content.changed
    ]


def _named(change: dict) -> str:
    return f"{change['name']} ({change['id']})" if change.get("name") else change["id"]


def build(content: AlertContent, base_url: str) -> Message:
    link = f"{base_url.rstrip('/')}/ui/patients/{quote(content.screening_id, safe='')}"
    change = change_said(content.from_status, content.to_status)
    changes = _changes(content)
    window = _window(content)
    data = {
        "type": "alert.created",
        "alert": content.alert,
        "screening_id": content.screening_id,
        "from_status": content.from_status,
        "to_status": content.to_status,
        "changed": changes,
        "created_at": content.created_at.isoformat(),
        "link": link,
    }
    if content.from_status is None:
        data["new_candidate"] = True
    if window:
        data |= {"eligible_until": window["eligible_until"], "window": window}
    if content.confirmed:
        data |= {"confirmed": True, "warning": OVERTURNED}
    first = (f"The MYOCIT screening {content.screening_id} is a new candidate: {content.to_status} at its "
             "first screening." if content.from_status is None
             else f"The MYOCIT screening {content.screening_id} changed: {change}.")
    lines = [
        *((OVERTURNED, "") if content.confirmed else ()),
        first,
        "",
        f"Screening id: {content.screening_id}",
        f"Status: {change}",
        *((f"Eligible until: {window['eligible_until']} ({window['closed_by']}: {window['reason']})",)
          if window else ()),
        f"Raised at: {content.created_at.isoformat()}",
        "",
        "What changed:" if changes else "No criterion verdict changed.",
        *(f"- {_named(c)}: {c['verdict']} ({c['reason']})" for c in changes),
        "",
        f"Open the screening: {link}",
    ]
    subject = f"MYOCIT screening {content.screening_id}: {change}"
    if content.confirmed:
        subject = f"SIGNED CONFIRMATION OVERTURNED: {subject}"
    return Message(subject, "\n".join(lines) + "\n", data)
