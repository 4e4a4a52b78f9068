"""Administration of registered patients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import audit
from store.intake import mark_pending
from store.models import Patient


def move_patient(session: Session, patient_id: str, site: str, *, actor: str,
                 now: datetime) -> tuple[str | None, int] | None:
    """Move a child to ``site`` (contract §13: only an admin does, audited). (former site, patient pk),
    or None when no such patient is registered. The child is marked for re-screening."""
    row = session.scalar(select(Patient).where(Patient.id == patient_id, Patient.registered.is_(True))
                         .with_for_update())
    if row is None:
        return None
    before = row.site
    row.site = site
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "patient-move", f"site {before or '-'} -> {site}", now,
                 screening_id=row.screening_id)
    mark_pending(session, [row.pk], now)
    return before, row.pk
