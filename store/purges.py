"""Retention (contract §17): which children are due for the purge, the purge log, and the clean-up of
the files after an erasure (SQLite overwrites and truncates its write-ahead log; PostgreSQL vacuums)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from store.models import Fact, Message, Patient, Purge, ScreeningOutcome


def expired(session: Session, cutoff: date) -> list[int]:
    """The children never enrolled whose latest message was received, and whose latest fact is dated,
    before ``cutoff`` (a child with neither is judged by when its record last changed)."""
    cutoff_at = datetime.combine(cutoff, time.min, tzinfo=timezone.utc)
    enrolled = select(ScreeningOutcome.patient_pk).where(ScreeningOutcome.outcome == "enrolled")
    latest = (select(Fact.patient_pk, func.max(Message.received_at).label("received"),
                     func.max(Fact.effective).label("effective"))
              .join(Message, Message.pk == Fact.message_pk).where(Fact.patient_pk.is_not(None))
              .group_by(Fact.patient_pk).subquery())
    query = (select(Patient.pk).outerjoin(latest, latest.c.patient_pk == Patient.pk)
             .where(Patient.pk.not_in(enrolled))
             .where(func.coalesce(latest.c.received, Patient.updated_at) < cutoff_at)
             .where((latest.c.effective.is_(None)) | (latest.c.effective < cutoff))
             .order_by(Patient.pk))
    return list(session.scalars(query))


def rows(session: Session, pks: list[int]):
    for pk in pks:
        row = session.get(Patient, pk, with_for_update=True)
        if row is not None:
            yield row


def start(session: Session, *, actor: str, reason: str, cutoff: date, now: datetime) -> int:
    return session.scalar(insert(Purge).values(at=now, actor=actor[:120], reason=reason[:200], cutoff=cutoff,
                                               children=0).returning(Purge.pk))


def finish(session: Session, purge_pk: int, children: int) -> None:
    session.execute(update(Purge).where(Purge.pk == purge_pk).values(children=children))


def listed(session: Session) -> list[Purge]:
    return list(session.scalars(select(Purge).order_by(Purge.pk)))


def as_json(purge: Purge) -> dict:
    at = purge.at if purge.at.tzinfo else purge.at.replace(tzinfo=timezone.utc)
    return {"id": purge.pk, "at": at.isoformat(), "by": purge.actor, "reason": purge.reason,
            "cutoff": purge.cutoff.isoformat(), "children": purge.children}


def after_erasure(engine: Engine, tables: set[str] | frozenset[str]) -> None:
    """Leave nothing of the erased rows in the files: SQLite (whose ``secure_delete`` already zeroed
    them in the pages) checkpoints and truncates its write-ahead log; PostgreSQL vacuums the tables,
    outside a transaction. A failure here is logged by the caller's process, never undoes the erasure."""
    if engine.dialect.name == "sqlite":
        # On the driver's connection: a checkpoint cannot run inside the transaction SQLAlchemy opens.
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()
        return
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in sorted(tables):
                conn.execute(text(f'VACUUM "{table}"'))
