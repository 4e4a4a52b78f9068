"""FHIR reads for the trial's other systems (contract §16): ResearchStudy/myocit, the topic, and one
ResearchSubject per registered child, for callers of the child's site (an admin: every site). Each
read is audited in the transaction that reads it, naming no child."""

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


def read_subject(cmd: ReadResearchSubject, uow: UnitOfWork, *, clock) -> dict:
    """``NotFound`` for a child of another site, as for one that does not exist."""
    with uow:
        found = subject_facts(uow.session, sites=_sites(cmd.reader), patient_id=cmd.subject_id[:64])
        if not found:
            raise NotFound(f"no ResearchSubject/{cmd.subject_id[:64]} for this caller")
        audit.record(uow.session, cmd.reader.name, "fhir-read", "ResearchSubject", clock.now())
        uow.commit()
    return research.research_subject(found[0], clock.now())


def search_subjects(cmd: SearchResearchSubjects, uow: UnitOfWork, *, clock, base_url: str) -> dict:
    """A ``searchset`` Bundle of the reader's children, by id, ``count`` a page, with a ``next`` link
    while more remain. A ``study`` other than ResearchStudy/myocit finds nobody."""
    with uow:
        facts = subject_facts(uow.session, sites=_sites(cmd.reader)) \
            if cmd.study in (None, f"ResearchStudy/{research.STUDY_ID}", research.STUDY_ID) else []
        audit.record(uow.session, cmd.reader.name, "fhir-search", "ResearchSubject", clock.now())
        uow.commit()
    now = clock.now()
    subjects = [research.research_subject(f, now) for f in facts
                if (cmd.updated_after is None or (f.status_changed_at and f.status_changed_at > cmd.updated_after))]
    if cmd.statuses:
        subjects = [s for s in subjects if s["status"] in cmd.statuses]
    page = subjects[cmd.offset:cmd.offset + cmd.count]
    root = f"{base_url.rstrip('/')}/fhir/ResearchSubject"
    query = {"study": f"ResearchStudy/{research.STUDY_ID}"}
    if cmd.statuses:
        query["status"] = ",".join(cmd.statuses)
    if cmd.updated_after is not None:
        query["_lastUpdated"] = "gt" + research.instant(cmd.updated_after)
    links = [{"relation": "self", "url": f"{root}?{urlencode({**query, '_count': cmd.count, '_offset': cmd.offset})}"}]
    if cmd.offset + cmd.count < len(subjects):
        links.append({"relation": "next",
                      "url": f"{root}?{urlencode({**query, '_count': cmd.count, '_offset': cmd.offset + cmd.count})}"})
    return {"resourceType": "Bundle", "type": "searchset", "timestamp": research.instant(now),
            "total": len(subjects), "link": links,
            "entry": [{"fullUrl": f"{root}/{s['id']}", "resource": s, "search": {"mode": "match"}} for s in page]}
