"""Protocol amendments (contract §10), as pure decisions: what changed between two versions, and how
one child's screening moves from one version to the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.evaluation import evaluate
from domain.protocol import Protocol
from domain.record import PatientRecord
from domain.verdicts import Screening

SECTIONS = ("age", "thresholds", "windows", "validity", "choices", "corticosteroid_potency")


@dataclass(frozen=True)
class Change:
    """One value that differs: ``thresholds.haemoglobin_below_g_dl: 8.0 → 7.5``; a code list's
    ``old``/``new`` are the codes removed and added (``system:code``)."""

    key: str
    old: object
    new: object

    def __str__(self) -> str:
        if self.key.startswith("code_lists."):
            parts = [f"-{c}" for c in self.old] + [f"+{c}" for c in self.new]
            return f"{self.key}: {' '.join(parts)}"
        return f"{self.key}: {_shown(self.old)} → {_shown(self.new)}"


def _shown(value: object) -> str:
    return "(none)" if value is None else str(value)


def diff(old: Protocol, new: Protocol) -> list[Change]:
    """Thresholds, windows, validities, choices, the age rule, potencies, the criteria's names and
    sentences (by language) and code lists that changed, in the order of the protocol files."""
    changes: list[Change] = []
    before, after = old.model_dump(), new.model_dump()
    for section in SECTIONS:
        a, b = before[section], after[section]
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key) != b.get(key):
                changes.append(Change(f"{section}.{key}", a.get(key), b.get(key)))
    for cid in list(old.criteria) + [c for c in new.criteria if c not in old.criteria]:
        was, now = old.criteria.get(cid), new.criteria.get(cid)
        for part in ("name", "sentence"):
            a, b = (getattr(was, part, None) or {}), (getattr(now, part, None) or {})
            for language in list(a) + [lang for lang in b if lang not in a]:
                if a.get(language) != b.get(language):
                    changes.append(Change(f"criteria.{cid}.{part}.{language}", a.get(language), b.get(language)))
    for name in list(old.codesets) + [n for n in new.codesets if n not in old.codesets]:
        was, now = _codes(old, name), _codes(new, name)
        if was != now:
            changes.append(Change(f"code_lists.{name}", sorted(was - now), sorted(now - was)))
    return changes


def _codes(protocol: Protocol, name: str) -> set[str]:
    return {f"{part.system}:{code}" for part in protocol.code_lists.get(name, ()) for code in part.codes}


@dataclass(frozen=True)
class Moved:
    """A child whose status would change under the candidate version, and the criteria that move."""

    patient: str
    site: str | None
    from_status: str
    to_status: str
    criteria: tuple[tuple[str, str, str], ...]
    """(criterion id, verdict now, verdict under the candidate), in the order of §1."""

    def to_json(self) -> dict:
        return {"patient": self.patient, "site": self.site, "from": self.from_status, "to": self.to_status,
                "criteria": [{"id": i, "from": a, "to": b} for i, a, b in self.criteria]}


def moved(now: Screening, then: Screening, site: str | None) -> Moved | None:
    """None unless the overall status differs between the two screenings of one child."""
    if now.status == then.status:
        return None
    criteria = tuple((a.id, a.verdict.value, b.verdict.value)
                     for a, b in zip(now.criteria, then.criteria) if a.verdict != b.verdict)
    return Moved(now.patient, site, now.status.value, then.status.value, criteria)


def compare(active: Protocol, candidate: Protocol, build, as_of: date, site: str | None) -> Moved | None:
    """Screen one child under both versions; ``build(protocol)`` gives its record under a version
    (records depend on the version: its code lists file the facts)."""
    return moved(evaluate(build(active), active, as_of), evaluate(build(candidate), candidate, as_of), site)


__all__ = ["Change", "Moved", "PatientRecord", "compare", "diff", "moved"]
