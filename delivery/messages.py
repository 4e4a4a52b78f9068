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

from config import language as languages
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
    reasons: list | None = None
    """Each criterion's reason as a message (contract §18), as stored with the screening; None before."""
    language: str | None = None
    """The subscription's language (contract §18); None: English."""


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


def _scrubbed(message, days: set[tuple[int, int]], lang: str):
    """A stored reason message with every date falling on the child's birthday withheld, before it is
    written in a language (a date written "15 janvier 2027" escapes an ISO pattern)."""
    if not isinstance(message, dict):
        return message
    args = {}
    for name, value in (message.get("args") or {}).items():
        if isinstance(value, dict) and "date" in value:
            day = date.fromisoformat(value["date"])
            value = languages.gettext(WITHHELD, lang) if (day.month, day.day) in days else value
        elif isinstance(value, dict) and "said" in value:
            value = {"said": _scrubbed(value["said"], days, lang)}
        args[name] = value
    return {**message, "args": args}


def _reason(content: AlertContent, index: int, criterion: dict) -> str:
    """A criterion's reason in the subscription's language, birthdays withheld."""
    lang = content.language or "en"
    reasons = content.reasons if content.reasons and len(content.reasons) == len(content.criteria) else None
    if reasons is not None and isinstance(reasons[index], dict):
        return languages.reason(_scrubbed(reasons[index], _birthdays(content.birth_date), lang), lang)
    return languages.reason(scrub(criterion.get("reason", ""), content.birth_date), lang)


def _window(content: AlertContent) -> dict | None:
    """The last day of the window and the criterion that closes it, as an alert may show them."""
    if not content.eligible_until:
        return None
    index, closing = next(((i, c) for i, c in enumerate(content.criteria)
                           if c.get("passes_until") == content.eligible_until), (None, {}))
    last_day = date.fromisoformat(content.eligible_until)
    before_birthday = ((last_day + timedelta(days=1)).month, (last_day + timedelta(days=1)).day)
    withheld = before_birthday in _birthdays(content.birth_date)
    shown = WITHHELD if withheld else content.eligible_until
    lang = content.language or "en"
    return {"eligible_until": shown, "closed_by": closing.get("id"),
            "reason": _reason(content, index, closing) if index is not None else "",
            "shown": languages.gettext(WITHHELD, lang) if withheld else languages.day(last_day, lang)}


def _changes(content: AlertContent) -> list[dict]:
    by_id = {c["id"]: (i, c) for i, c in enumerate(content.criteria)}
    return [
        {"id": cid, **({"name": content.names[cid]} if cid in content.names else {}),
         "verdict": by_id[cid][1].get("verdict") if cid in by_id else None,
         "reason": in_human_units(_reason(content, *by_id[cid]) if cid in by_id else "")}
        for cid in content.changed
    ]


def _named(change: dict) -> str:
    return f"{change['name']} ({change['id']})" if change.get("name") else change["id"]


def build(content: AlertContent, base_url: str) -> Message:
    """The email and the webhook body of an alert, in the subscription's language (contract §18): the
    webhook's fields are the same in every language, its ``text`` and reasons are in that language."""
    lang = content.language or "en"

    def _(text: str) -> str:
        return languages.gettext(text, lang)

    link = f"{base_url.rstrip('/')}/ui/patients/{quote(content.screening_id, safe='')}"
    change = languages.change(content.from_status, content.to_status, lang)
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
        shown = window.pop("shown")
        data |= {"eligible_until": window["eligible_until"], "window": window}
    if content.confirmed:
        data |= {"confirmed": True, "warning": _(OVERTURNED)}
    if lang != "en":
        data["language"] = lang
    first = (_("The MYOCIT screening {id} is a new candidate: {status} at its first screening.").format(
        id=content.screening_id, status=_(content.to_status)) if content.from_status is None
        else _("The MYOCIT screening {id} changed: {change}.").format(id=content.screening_id, change=change))
    lines = [
        *((_(OVERTURNED), "") if content.confirmed else ()),
        first,
        "",
        _("Screening id: {id}").format(id=content.screening_id),
        _("Status: {change}").format(change=change),
        *((_("Eligible until: {day} ({criterion}: {reason})").format(
            day=window["eligible_until"] if lang == "en" else shown, criterion=window["closed_by"],
            reason=window["reason"]),) if window else ()),
        _("Raised at: {moment}").format(moment=content.created_at.isoformat()),
        "",
        _("What changed:") if changes else _("No criterion verdict changed."),
        *(f"- {_named(c)}: {_(c['verdict'] or '')} ({c['reason']})" for c in changes),
        "",
        _("Open the screening: {link}").format(link=link),
    ]
    subject = _("MYOCIT screening {id}: {change}").format(id=content.screening_id, change=change)
    if content.confirmed:
        subject = _("SIGNED CONFIRMATION OVERTURNED: {subject}").format(subject=subject)
    text = "\n".join(lines) + "\n"
    data["text"] = text  # what a site's system shows a person, in the subscription's language (§18)
    return Message(subject, text, data)
