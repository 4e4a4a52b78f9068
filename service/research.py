"""FHIR reads for the trial's other systems (contract §16): ResearchStudy/myocit, the topic, and one
ResearchSubject per registered child, for callers of the child's site (an admin: every site). Each
read is audited in the transaction that reads it (a search naming no child)."""

from __future__ import annotations

from urllib.parse import urlencode

from domain import research
from domain.identity import Caller
from service.commands import ReadResearchSubject, SearchResearchSubjects
from service.errors import NotFound
from store import audit
from store.research import subject_facts
from store.uow import UnitOfWork

MAX_COUNT = 500


def _sites(reader: Caller) -> list[str] | None:
    return None if reader.role == "admin" else sorted(reader.sites)


def _this_study(study: str | None) -> bool:
    """No ``study``, or one naming ResearchStudy/myocit (by id, reference or full URL)."""
    wanted = f"ResearchStudy/{research.STUDY_ID}"
    return study is None or study == research.STUDY_ID or study.rstrip("/").endswith(wanted)


_COMPARE = {"gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def _updated_within(facts, last_updated) -> bool:
    """Whether the child's status last changed within ``_lastUpdated`` (a child never screened has no
    change to compare: it matches no bound)."""
    if last_updated is None:
        return True
    return facts.status_changed_at is not None and _COMPARE[last_updated[0]](facts.status_changed_at, last_updated[1])


def read_subject(cmd: ReadResearchSubject, uow: UnitOfWork, *, clock) -> dict:
    """``NotFound`` for a child of another site, as for one that does not exist."""
    with uow:
        found = subject_facts(uow.session, sites=_sites(cmd.reader), patient_id=cmd.subject_id[:64])
        if not found:
            raise NotFound(f"no ResearchSubject/{cmd.subject_id[:64]} for this caller")
        audit.record(uow.session, cmd.reader, "fhir-read", "ResearchSubject", clock.now(),
                     screening_id=found[0].screening_id)
        uow.commit()
    return research.research_subject(found[0], clock.now())


def search_subjects(cmd: SearchResearchSubjects, uow: UnitOfWork, *, clock, base_url: str) -> dict:
    """A ``searchset`` Bundle of the reader's children, by id, ``count`` a page, with a ``next`` link
    while more remain. A ``study`` other than ResearchStudy/myocit finds nobody."""
    with uow:
        facts = subject_facts(uow.session, sites=_sites(cmd.reader)) if _this_study(cmd.study) else []
        audit.record(uow.session, cmd.reader.name, "fhir-search", "ResearchSubject", clock.now())
        uow.commit()
    now = clock.now()
    subjects = [research.research_subject(f, now) for f in facts if _updated_within(f, cmd.last_updated)]
    if cmd.statuses:
        subjects = [s for s in subjects if s["status"] in cmd.statuses]
    page = subjects[cmd.offset:cmd.offset + cmd.count]
    root = f"{base_url.rstrip('/')}/fhir/ResearchSubject"
    query = {"study": f"ResearchStudy/{research.STUDY_ID}"}
    if cmd.statuses:
        query["status"] = ",".join(cmd.statuses)
    if cmd.last_updated is not None:
        query["_lastUpdated"] = cmd.last_updated[0] + research.instant(cmd.last_updated[1])
    links = [{"relation": "self", "url": f"{root}?{urlencode({**query, '_count': cmd.count, '_offset': cmd.offset})}"}]
    if cmd.offset + cmd.count < len(subjects):
        links.append({"relation": "next",
                      "url": f"{root}?{urlencode({**query, '_count': cmd.count, '_offset': cmd.offset + cmd.count})}"})
    return {"resourceType": "Bundle", "type": "searchset", "timestamp": research.instant(now),
            "total": len(subjects), "link": links,
            "entry": [{"fullUrl": f"{root}/{s['id']}", "resource": s, "search": {"mode": "match"}} for s in page]}
