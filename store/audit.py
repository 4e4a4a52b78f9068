"""Who viewed or changed which record, and when: one row per act, written in the act's transaction."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEntry


_INSERT = AuditEntry.__table__.insert()


def record(session: Session, actor, action: str, target: str | None, now: datetime, *,
           role: str | None = None, screening_id: str | None = None, outcome: str | None = None) -> None:
    """One act. ``actor``: a ``Caller`` (its name, role and token are kept) or a name. A child is named
    by ``screening_id`` only, never by an EHR id: audit rows are never changed or deleted, so they must
    hold nothing an erasure would have to remove (contract §17)."""
    write(session, row(actor, action, target, now, role=role, screening_id=screening_id, outcome=outcome))


def write(session: Session, values: dict) -> None:
    """One act's row, its values from ``row``."""
    session.connection().execute(_INSERT, values)


def row(actor, action: str, target: str | None, now: datetime, *, role: str | None = None,
        screening_id: str | None = None, outcome: str | None = None) -> dict:
    """The values of one act's row, as ``record`` writes it (for a statement that writes it with others)."""
    token_pk = None
    if not isinstance(actor, str):
        role, token_pk, actor = role or actor.role, actor.token_pk, actor.name
    # Truncated to the columns' widths: an over-long name must never make the audited act fail.
    return {"at": now, "actor": actor[:120], "action": action[:64], "token_pk": token_pk,
            "target": target[:200] if target else None, "role": role[:16] if role else None,
            "screening_id": screening_id, "outcome": outcome[:32] if outcome else None}


def latest(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.pk.desc()).limit(limit)))


EXPORT_COLUMNS = ("time", "actor", "role", "action", "screening_id", "target", "outcome")


def exported(session: Session, *, since=None, until=None, patient: str | None = None, actor: str | None = None,
             batch: int = 1000):
    """The rows matching the filters, oldest first, streamed in batches from a server-side cursor."""
    query = select(AuditEntry.at, AuditEntry.actor, AuditEntry.token_pk, AuditEntry.role, AuditEntry.action,
                   AuditEntry.screening_id, AuditEntry.target, AuditEntry.outcome).order_by(AuditEntry.pk)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if patient is not None:
        query = query.where(AuditEntry.screening_id == patient)
    if actor is not None:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    result = session.execute(query.execution_options(stream_results=True, yield_per=batch))
    for at, who, token_pk, role, action, screening_id, target, outcome in result:
        at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        who = f"token {token_pk} ({who})" if token_pk is not None else who
        yield {"time": at.astimezone(timezone.utc).isoformat(), "actor": who, "role": role, "action": action,
               "screening_id": screening_id, "target": target, "outcome": outcome}
