"""What the card in the EHR says (contract §15): from a child's latest stored screening, whether a card
is shown at all, its summary, indicator and detail. Pure: the words only, from the stored result and
the protocol's criterion names; never a name, a birth date or a record number (a criterion's stored
reason is not shown either: the card speaks of criteria, not of the child's data).

- eligible: "MYOCIT: possibly eligible" (warning)
- waiting: "MYOCIT: eligible from 2026-12-09" (warning)
- incomplete: "MYOCIT: may be eligible, N items to check" (info)
- ineligible, or consent refused or withdrawn: no card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SOURCE_LABEL = "MYOCIT trial screening"
OVERRIDE_SYSTEM = "urn:myocit:cds-override-reason"
OVERRIDE_REASONS = (
    ("family-not-interested", "Family not interested"),
    ("not-appropriate-now", "Not clinically appropriate now"),
    ("already-discussed", "Already discussed with the research team"),
)
SUMMARY_LENGTH = 140
CONSENT = "INC-CONSENT"
SHOWN_STATUSES = ("eligible", "waiting", "incomplete")


@dataclass(frozen=True)
class CardWords:
    summary: str
    indicator: str
    detail: str


def _items_to_check(criteria: list[dict]) -> list[dict]:
    return [c for c in criteria if c.get("verdict") in ("unknown", "review")]


def _summary(status: str, eligible_from: str | None, to_check: int) -> str:
    if status == "eligible":
        return "MYOCIT: possibly eligible"
    if status == "waiting" and eligible_from:
        return f"MYOCIT: eligible from {eligible_from}"
    return f"MYOCIT: may be eligible, {to_check} item{'' if to_check == 1 else 's'} to check"


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"**{title}**", "", *lines, ""] if lines else []


def _detail(result: dict, name: Callable[[str], str]) -> str:
    criteria = result.get("criteria") or []
    waiting = [f"- {name(c['id'])}: not met until {c['until']}; met then with no new data"
               for c in criteria if c.get("verdict") == "fail" and c.get("until")]
    unknown = [f"- {name(c['id'])}: not known yet; a result or record of it sent to myocit would decide it"
               for c in criteria if c.get("verdict") == "unknown"]
    review = [f"- {name(c['id'])}: needs the investigator's review on the patient page"
              for c in criteria if c.get("verdict") == "review"]
    opening = {"eligible": "Every criterion of the MYOCIT protocol is met on the latest screening.",
               "waiting": "The child may become eligible for MYOCIT: what blocks today ends on its own.",
               "incomplete": "Nothing known excludes the child from MYOCIT, but some criteria are not decided yet."}
    lines = [opening[result["status"]], ""]
    lines += _section("What blocks, and when it ends", waiting)
    lines += _section("What is missing, and what would resolve it", unknown)
    lines += _section("For review", review)
    if result.get("eligible_until"):
        lines += [f"The window of eligibility closes on {result['eligible_until']}.", ""]
    lines.append(f"Screened as of {result.get('as_of')} (protocol {result.get('protocol_version')}). "
                 "Tell the family or the research team; the patient page has the details.")
    return "\n".join(lines)


def card_words(result: dict, name: Callable[[str], str]) -> CardWords | None:
    """The card for a stored screening ``result`` (contract §3), or None when no card is shown.
    ``name`` gives a criterion's short name from its id."""
    status = result.get("status")
    if status not in SHOWN_STATUSES:
        return None
    criteria = result.get("criteria") or []
    if any(c.get("id") == CONSENT and c.get("verdict") == "fail" for c in criteria):
        return None
    summary = _summary(status, result.get("eligible_from"), len(_items_to_check(criteria)))
    indicator = "info" if status == "incomplete" else "warning"
    return CardWords(summary[:SUMMARY_LENGTH], indicator, _detail(result, name))
