"""Who viewed or changed which record, and when: one row per act, written in the act's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEntry


_INSERT = AuditEntry.__table__.insert()


def record(session: Session, actor: str, action: str, target: str | None, now: datetime) -> None:
    # Truncated to the columns' widths: an over-long name must never make the audited act fail.
    session.connection().execute(_INSERT, {"at": now, "actor": actor[:120], "action": action[:64],
                                           "target": target[:200] if target else None})


def latest(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.pk.desc()).limit(limit)))
