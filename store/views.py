"""Read models: every query the pages and routes need, in one place, always within the caller's
sites. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Alert, Patient, Screening
from store.tokens import Caller


def visible_patient(session: Session, caller: Caller, patient_id: str) -> Patient | None:
    """The registered child ``patient_id`` if it is of the caller's sites, else None (the same answer
    whether it exists elsewhere or not)."""
    row = session.scalar(select(Patient).where(Patient.id == patient_id, Patient.registered.is_(True)))
    return row if row is not None and caller.sees_site(row.site) else None


def utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp with its offset (SQLite keeps UTC without it)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class StoredScreening:
    """The latest stored screening of a child (contract §5.1)."""

    result: dict
    screened_at: datetime
    pending: bool
    """Data arrived after this screening and its evaluation is not stored yet."""

    def to_json(self) -> dict:
        return {**self.result, "screened_at": self.screened_at.isoformat(), "pending": self.pending, "stored": True}


def is_pending(row: Patient) -> bool:
    return row.pending_seq > row.evaluated_seq


def latest_screening(session: Session, row: Patient) -> StoredScreening | None:
    stored = session.execute(select(Screening.result, Screening.created_at).where(Screening.patient_pk == row.pk)
                             .order_by(Screening.pk.desc()).limit(1)).first()
    if stored is None:
        return None
    return StoredScreening(stored.result, utc(stored.created_at), is_pending(row))


def screening_history(session: Session, row: Patient) -> list[tuple]:
    """(created_at, as_of, status, trigger) of every stored screening, oldest first."""
    return [tuple(r) for r in session.execute(
        select(Screening.created_at, Screening.as_of, Screening.status, Screening.trigger)
        .where(Screening.patient_pk == row.pk).order_by(Screening.pk)).all()]


def alerts_of_patient(session: Session, row: Patient) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.patient_pk == row.pk).order_by(Alert.pk)))


def alerts_for(session: Session, caller: Caller, *, after: int = 0, limit: int = 5000,
               newest_first: bool = False) -> list[tuple[Alert, str]]:
    """(alert, patient id) of the caller's sites, oldest first (or the newest ``limit``, newest first)."""
    query = select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(Alert.pk > after)
    if caller.role != "admin":
        query = query.where(Alert.site.in_(sorted(caller.sites)))
    order = Alert.pk.desc() if newest_first else Alert.pk
    return [tuple(r) for r in session.execute(query.order_by(order).limit(limit)).all()]


def alert_for_update(session: Session, alert_pk: int) -> tuple[Alert, str] | None:
    """(alert, patient id), the alert row locked for an acknowledgement."""
    found = session.execute(
        select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(Alert.pk == alert_pk)
        .with_for_update(of=Alert)
    ).first()
    return tuple(found) if found is not None else None


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    screening: Screening | None


def worklist(session: Session, caller: Caller) -> list[WorklistRow]:
    """Every registered child of the caller's sites with its latest stored screening (None before
    the first), by screening id."""
    latest = (select(Screening.patient_pk, func.max(Screening.pk).label("pk"))
              .group_by(Screening.patient_pk).subquery())
    query = (select(Patient, Screening)
             .outerjoin(latest, latest.c.patient_pk == Patient.pk)
             .outerjoin(Screening, Screening.pk == latest.c.pk)
             .where(Patient.registered.is_(True)))
    if caller.role != "admin":
        query = query.where(Patient.site.in_(sorted(caller.sites)))
    return [WorklistRow(p, s) for p, s in session.execute(query.order_by(Patient.id)).all()]


def never_screened_patients_of(session: Session, message_pk: int) -> list[int]:
    """The children a stored message's facts belong to that have no screening yet (an initial load
    cut short before its end: running it again screens them)."""
    from store.models import Fact

    return sorted(session.scalars(
        select(Patient.pk).join(Fact, Fact.patient_pk == Patient.pk)
        .where(Fact.message_pk == message_pk, Patient.status.is_(None)).distinct()))
