"""Outbox bookkeeping for alert delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Outbox


def mark_dispatched(session: Session, alert_pk: int, now: datetime) -> bool:
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.topic == "alert.created", Outbox.ref == alert_pk, Outbox.dispatched_at.is_(None))
        .with_for_update()
    ).all()
    for row in rows:
        row.dispatched_at = now
    return bool(rows)
