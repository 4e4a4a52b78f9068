"""The screening result as a coordinator reads it in a terminal: status first, then what blocks,
what is missing, then everything that passes."""

from __future__ import annotations

from domain.verdicts import CriterionResult, Screening, Status, Verdict

_HEADLINES = {
    Status.ELIGIBLE: "ELIGIBLE: every criterion passes",
    Status.WAITING: "WAITING: only time stands in the way",
    Status.INCOMPLETE: "INCOMPLETE: nothing excludes, but data or attestations are missing",
    Status.INELIGIBLE: "INELIGIBLE",
}


def _line(result: CriterionResult) -> str:
    until = f" (until {result.until.isoformat()})" if result.until else ""
    if result.passes_until:
        until = f" (passes until {result.passes_until.isoformat()})"
    return f"  {result.id:<24} {result.verdict.value:<7}{until}  {result.reason}"


def render_text(screening: Screening) -> str:
    lines = [
        f"{_HEADLINES[screening.status]}",
        f"patient {screening.patient} | {screening.protocol} {screening.protocol_version} | as of "
        f"{screening.as_of.isoformat()}",
    ]
    if screening.eligible_from:
        lines.append(f"eligible from {screening.eligible_from.isoformat()}")
    if screening.eligible_until:
        lines.append(f"eligible until {screening.eligible_until.isoformat()}")
    if screening.next_review_at:
        lines.append(f"re-screened automatically on {screening.next_review_at.isoformat()}")
    sections = [
        ("Blocking", [Verdict.FAIL]),
        ("To review", [Verdict.REVIEW]),
        ("Missing", [Verdict.UNKNOWN]),
        ("Passing", [Verdict.PASS]),
    ]
    for title, verdicts in sections:
        chosen = [c for c in screening.criteria if c.verdict in verdicts]
        if chosen:
            lines.append("")
            lines.append(f"{title} ({len(chosen)})")
            lines.extend(_line(c) for c in chosen)
    return "\n".join(lines)
