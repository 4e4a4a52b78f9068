"""Data protection (contract §17): a family's objection, the retention purge and its log, and the
audit export. Erasing is ``store.erasure`` in one transaction; the file-level clean-up (SQLite's
checkpoint, PostgreSQL's VACUUM) runs after the commit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

from store import audit, erasure, purges, tombstones, views
from store.intake import screening_id_of
from store.uow import UnitOfWork
from service.commands import ExportAudit, PurgeExpired, RecordObjection
from service.errors import Invalid, NotFound
from service.ports import Clock

log = logging.getLogger("myocit.data_protection")
OBJECTION_ROLES = ("coordinator", "investigator", "admin")
MAX_REASON = 2000


def record_objection(cmd: RecordObjection, uow: UnitOfWork, *, clock: Clock) -> dict:
    """Erase the child and leave its tombstone, in one transaction; ``NotFound`` for a child not of the
    recorder's sites. The reason is audited as given nowhere (free text may name the child).

    Idempotent in effect: a second objection finds no child (404)."""
    if len((cmd.reason or "").strip()) > MAX_REASON:
        raise Invalid(f"the reason is at most {MAX_REASON} characters")
    with uow:
        row = views.visible_patient(uow.session, cmd.recorder, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id} for this site")
        keyring = tombstones.keyring_of(uow.session)
        now = clock.now()
        erased = erasure.erase_child(uow.session, row, reason="objection", by=cmd.recorder.name, now=now,
                                     today=clock.today(), keyring=keyring)
        audit.record(uow.session, cmd.recorder, "objection", None, now, role=cmd.recorder.role,
                     screening_id=erased.screening_id, outcome="erased")
        engine = uow.session.get_bind()
        uow.commit()
    purges.after_erasure(engine, erased.tables)
    log.info("objection recorded: child %s erased", erased.screening_id)
    return {"screening_id": erased.screening_id, "site": erased.site, "status": "objected",
            "erased_on": clock.today().isoformat()}


def purge(cmd: PurgeExpired, uow: UnitOfWork, *, clock: Clock) -> dict:
    """Purge every child never enrolled whose latest message was received, and whose latest fact is
    dated, more than the retention period before today. With ``dry_run``, only count them.

    Idempotent: a second run finds nothing more to purge (the purge log says 0)."""
    today = clock.today()
    cutoff = today - timedelta(days=cmd.retention_days)
    with uow:
        due = purges.expired(uow.session, cutoff)
        if cmd.dry_run:
            return {"dry_run": True, "cutoff": cutoff.isoformat(), "children": len(due)}
        now = clock.now()
        purge_pk = purges.start(uow.session, actor=cmd.actor, reason=f"{cmd.why}: {cmd.retention_days} days",
                                cutoff=cutoff, now=now)
        tables: set[str] = set()
        for row in purges.rows(uow.session, due):
            tables |= erasure.erase_child(uow.session, row, reason="retention", by=cmd.actor, now=now, today=today,
                                          keyring=None, purge_pk=purge_pk).tables
        purges.finish(uow.session, purge_pk, len(due))
        audit.record(uow.session, cmd.actor, "purge", f"Purge/{purge_pk}", now, outcome=f"{len(due)} children")
        engine = uow.session.get_bind()
        uow.commit()
    if due:
        purges.after_erasure(engine, tables)
    log.info("purge %s: %d children older than %s", purge_pk, len(due), cutoff)
    return {"dry_run": False, "purge": purge_pk, "cutoff": cutoff.isoformat(), "children": len(due)}


def purge_log(reader, uow: UnitOfWork, *, clock: Clock) -> list[dict]:
    """Every purge: when, why, how many children; never which."""
    with uow:
        listed = [purges.as_json(p) for p in purges.listed(uow.session)]
        audit.record(uow.session, reader, "view-purges", None, clock.now(), role=reader.role)
        uow.commit()
    return listed


def rekey_tombstones(uow: UnitOfWork, *, actor: str, clock: Clock) -> int:
    """Wrap every tombstone hash under the current key. Idempotent: a second run rewrites nothing."""
    with uow:
        count = tombstones.rekey(uow.session, tombstones.keyring_of(uow.session))
        audit.record(uow.session, actor, "tombstones-rekey", None, clock.now(), outcome=f"{count} hashes")
        uow.commit()
    return count


def export_audit(cmd: ExportAudit, uow: UnitOfWork, *, clock: Clock) -> Iterator[dict]:
    """The audit rows matching the filters, oldest first, one at a time (a server-side cursor: memory
    stays constant however many). The export is itself audited, before the first row is read."""
    with uow:
        audit.record(uow.session, cmd.reader, "audit-export", None, clock.now(), role=cmd.reader.role)
        if cmd.patient is not None:
            # A child still kept may be asked for by its Patient id: the audit names it by screening id.
            cmd = replace(cmd, patient=screening_id_of(uow.session, cmd.patient) or cmd.patient)
        uow.commit()

    def rows() -> Iterator[dict]:
        with uow:
            yield from audit.exported(uow.session, since=cmd.since, until=cmd.until, patient=cmd.patient,
                                      actor=cmd.actor)
    return rows()
