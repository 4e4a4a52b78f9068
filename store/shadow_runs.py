"""A shadow run's chunks (contract §10) for the workers: created by the command that starts the run,
taken and finished by the workers, read back by the command as they finish."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from store.models import Patient, ShadowChunk, ShadowRun


def create_run(session: Session, *, actor: str, site: str | None, as_of: date, active: tuple[str, dict],
               candidate: tuple[str, dict], now: datetime) -> int:
    row = ShadowRun(created_at=now, actor=actor[:120], site=site, as_of=as_of, active_name=active[0][:200],
                    active_files=active[1], candidate_name=candidate[0][:200], candidate_files=candidate[1])
    session.add(row)
    session.flush()
    return row.pk


def add_chunk(session: Session, run_pk: int, first_pk: int, last_pk: int, now: datetime) -> int:
    row = ShadowChunk(run_pk=run_pk, first_pk=first_pk, last_pk=last_pk, sent_at=now, attempts=0, screened=0)
    session.add(row)
    session.flush()
    return row.pk


def take(session: Session, chunk_pk: int, now: datetime) -> tuple[ShadowChunk, ShadowRun] | None:
    """The chunk and its run, marked taken now; None if it is done (or its run is gone)."""
    taken = session.execute(update(ShadowChunk).where(ShadowChunk.pk == chunk_pk, ShadowChunk.done_at.is_(None))
                            .values(taken_at=now, attempts=ShadowChunk.attempts + 1)).rowcount
    if not taken:
        return None
    chunk = session.get(ShadowChunk, chunk_pk)
    return chunk, session.get(ShadowRun, chunk.run_pk)


def children(session: Session, run: ShadowRun, chunk: ShadowChunk) -> list[int]:
    """The registered children of the chunk's pk range (and of the run's site), in pk order."""
    query = select(Patient.pk).where(Patient.registered.is_(True), Patient.pk >= chunk.first_pk,
                                     Patient.pk <= chunk.last_pk)
    if run.site is not None:
        query = query.where(Patient.site == run.site)
    return list(session.scalars(query.order_by(Patient.pk)))


def finish(session: Session, chunk_pk: int, screened: int, result: dict, now: datetime) -> bool:
    """Store what the chunk found, unless another worker did first (the first result stands: both are
    the same, read from the same facts with the same versions). Whether this one was stored."""
    return bool(session.execute(update(ShadowChunk).where(ShadowChunk.pk == chunk_pk, ShadowChunk.done_at.is_(None))
                                .values(done_at=now, screened=screened, result=result)).rowcount)


def done_since(session: Session, run_pk: int, seen: set[int]) -> list[ShadowChunk]:
    """The run's chunks done and not in ``seen``."""
    rows = session.scalars(select(ShadowChunk).where(ShadowChunk.run_pk == run_pk, ShadowChunk.done_at.is_not(None))
                           .order_by(ShadowChunk.pk))
    return [row for row in rows if row.pk not in seen]


def lost(session: Session, run_pk: int, before: datetime) -> list[int]:
    """The run's chunks not done whose worker is gone: taken before ``before``; or, while no chunk of
    the run was taken or finished since ``before`` (no worker is taking any), sent before it. A chunk
    waiting in the queue behind others while the workers make progress is not lost."""
    taken_long_ago = list(session.scalars(select(ShadowChunk.pk).where(
        ShadowChunk.run_pk == run_pk, ShadowChunk.done_at.is_(None), ShadowChunk.taken_at < before)))
    latest = session.execute(select(func.max(ShadowChunk.taken_at), func.max(ShadowChunk.done_at))
                             .where(ShadowChunk.run_pk == run_pk)).one()
    if any(moment is not None and _aware(moment) >= before for moment in latest):
        return taken_long_ago
    waiting = session.scalars(select(ShadowChunk.pk).where(
        ShadowChunk.run_pk == run_pk, ShadowChunk.done_at.is_(None), ShadowChunk.taken_at.is_(None),
        ShadowChunk.sent_at < before))
    return sorted(set(taken_long_ago) | set(waiting))


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def worn_out(session: Session, run_pk: int, attempts: int) -> int:
    """How many of the run's chunks are not done after ``attempts`` takes."""
    return len(list(session.scalars(select(ShadowChunk.pk).where(
        ShadowChunk.run_pk == run_pk, ShadowChunk.done_at.is_(None), ShadowChunk.attempts >= attempts))))


def sent_again(session: Session, chunk_pks: list[int], now: datetime) -> None:
    session.execute(update(ShadowChunk).where(ShadowChunk.pk.in_(chunk_pks)).values(sent_at=now, taken_at=None))


def close_run(session: Session, run_pk: int, now: datetime) -> None:
    """The run gathered (or abandoned): its chunks deleted (the report is kept on its own), the run dated."""
    session.execute(delete(ShadowChunk).where(ShadowChunk.run_pk == run_pk))
    session.execute(update(ShadowRun).where(ShadowRun.pk == run_pk).values(finished_at=now))
