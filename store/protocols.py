"""The active protocol version (contract §10), the re-screening an activation starts, the facts a
shadow run reads in batches, and the last shadow reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain import PatientRecord, Protocol
from store import codec
from store.models import Fact, Patient, ProtocolActivation, ScreeningRow, ShadowReport
from store.screening import profile_of

_LATEST = select(ProtocolActivation).order_by(ProtocolActivation.pk.desc()).limit(1)
_LATEST_PK = select(func.max(ProtocolActivation.pk))


def active(session: Session) -> ProtocolActivation | None:
    """The latest activation; None: nothing was activated (the configured version governs)."""
    return session.scalar(_LATEST)


def active_pk(session: Session) -> int | None:
    """Cheap: what a process compares with the version it holds."""
    return session.scalar(_LATEST_PK)


def activation(session: Session, pk: int) -> ProtocolActivation | None:
    return session.get(ProtocolActivation, pk)


def activations(session: Session, limit: int = 50) -> list[ProtocolActivation]:
    return list(session.scalars(select(ProtocolActivation).order_by(ProtocolActivation.pk.desc()).limit(limit)))


def record_activation(session: Session, name: str, version: str, files: dict, actor: str, now: datetime) -> int:
    row = ProtocolActivation(name=name[:200], version=version, files=files, activated_at=now,
                             activated_by=actor[:120], patients=0)
    session.add(row)
    session.flush()
    return row.pk


def mark_all_for_rescreening(session: Session, activation_pk: int, now: datetime) -> int:
    """Every registered child pending (one statement, in the activation's transaction, so an
    activation is never stored without its marks); those failed for good are retried under the new
    version. Returns how many."""
    marked = session.execute(update(Patient).where(Patient.registered.is_(True))
                             .values(pending_seq=Patient.pending_seq + 1, enqueued_at=now)).rowcount
    session.execute(update(ProtocolActivation).where(ProtocolActivation.pk == activation_pk)
                    .values(patients=marked))
    return marked


def pending_batch(session: Session, after: int, limit: int) -> list[int]:
    """Registered children still pending with pk above ``after``, in pk order (dispatch in batches)."""
    return list(session.scalars(select(Patient.pk).where(Patient.registered.is_(True), Patient.pk > after,
                                                         Patient.pending_seq > Patient.evaluated_seq)
                                .order_by(Patient.pk).limit(limit)))


def pending_count(session: Session) -> int:
    """Registered children still pending (an activation's re-screening not finished)."""
    return session.scalar(select(func.count()).select_from(Patient)
                          .where(Patient.registered.is_(True), Patient.pending_seq > Patient.evaluated_seq)) or 0


def rescreened(session: Session, row: ProtocolActivation) -> int:
    """Children with a screening stored under the activation's version since it was activated."""
    return session.scalar(select(func.count(func.distinct(ScreeningRow.patient_pk)))
                          .where(ScreeningRow.protocol_version == row.version,
                                 ScreeningRow.created_at >= row.activated_at)) or 0


# --- shadow runs ----------------------------------------------------------------------------------


def registered_after(session: Session, site: str | None, after: int, size: int) -> list[int]:
    """The next ``size`` pks of registered children (of ``site``) above ``after`` (keyset paging)."""
    query = select(Patient.pk).where(Patient.registered.is_(True), Patient.pk > after)
    if site is not None:
        query = query.where(Patient.site == site)
    return list(session.scalars(query.order_by(Patient.pk).limit(size)))


def count_registered(session: Session, site: str | None) -> int:
    query = select(func.count()).select_from(Patient).where(Patient.registered.is_(True))
    if site is not None:
        query = query.where(Patient.site == site)
    return session.scalar(query) or 0


def facts_of(session: Session, pks: list[int]) -> list[tuple[Patient, list]]:
    """Each child of ``pks`` with its stored facts, decoded (two statements for the batch)."""
    patients = list(session.scalars(select(Patient).where(Patient.pk.in_(pks)).order_by(Patient.pk)))
    facts: dict[int, list] = {pk: [] for pk in pks}
    rows = session.execute(select(Fact.patient_pk, Fact.kind, Fact.payload, Fact.revision)
                           .where(Fact.patient_pk.in_(pks)).order_by(Fact.pk))
    for patient_pk, kind, payload, revision in rows:
        facts[patient_pk].append(codec.load(kind, payload, revision=revision))
    return [(p, facts[p.pk]) for p in patients]


def record_of(row: Patient, facts: list, protocol: Protocol) -> PatientRecord:
    return PatientRecord.build(row.id, profile_of(row), facts, protocol)


def save_shadow_report(session: Session, report: dict, actor: str, now: datetime) -> int:
    row = ShadowReport(created_at=now, actor=actor[:120], report=report)
    session.add(row)
    session.flush()
    return row.pk


def last_shadow_report(session: Session) -> ShadowReport | None:
    return session.scalar(select(ShadowReport).order_by(ShadowReport.pk.desc()).limit(1))
