"""What an operator checks first: is work flowing, is anything stuck, is anything failing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Alert, ApiToken, Delivery, Message, Outbox, Patient, PatientIdentifier


@dataclass(frozen=True)
class Overview:
    patients: int
    pending: int
    """Patients with stored results not evaluated yet; it should fall back to 0 within seconds."""
    oldest_pending_since: datetime | None
    """When the oldest of them was last sent to a worker: older than ``SWEEP_AFTER_SECONDS`` means the
    sweeper is (or should be) re-sending it."""
    oldest_pending_seconds: int | None
    """How long that has been, in seconds: what an operator watches."""
    evaluations_failed: int
    """Patients whose evaluation failed for good: left alone until new data arrives (§13)."""
    evaluation_failures: dict
    """Those patients counted by the error's kind (no patient data)."""
    due_for_review: int
    """Patients whose re-screening date has come (the scheduler picks them every few minutes)."""
    alerts_unacknowledged: int
    alerts_undispatched: int
    deliveries_pending: int
    deliveries_failed: int
    last_message_at: datetime | None
    duplicate_identifiers: int
    """(system, value) pairs held by more than one patient: none can be stored any more; any found
    were left by an earlier version and need an administrator (§13)."""
    shared_identifier_values: int
    """Identifier values held by several patients of one site: a message naming only that value is
    refused as ambiguous (give its system or a mapped HL7 authority)."""
    tokens_without_site: int
    """Active lab, coordinator or investigator tokens naming no site: the service does not start
    while any is left."""
    protocol_activated: str | None = None
    """The version last activated (``myocit protocol activate``), with who and when; None: the
    configured ``MYOCIT_PROTOCOL_VERSION`` governs."""
    protocol_rescreened: str | None = None
    """Of the children that activation marked, how many are screened under it yet."""

    def to_json(self) -> dict:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def overview(session: Session, today: date, now: datetime) -> Overview:
    failed = Patient.failed_seq.is_not(None) & (Patient.failed_seq >= Patient.pending_seq)
    pending = (Patient.pending_seq > Patient.evaluated_seq) & Patient.registered.is_(True) & ~failed
    registered, waiting, oldest, due = session.execute(
        select(
            func.count().filter(Patient.registered.is_(True)),
            func.count().filter(pending),
            func.min(Patient.enqueued_at).filter(pending),
            func.count().filter(Patient.registered.is_(True), Patient.next_review_at <= today),
        )
    ).one()
    deliveries = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    failures = dict(session.execute(select(Patient.failure, func.count()).where(failed)
                                    .group_by(Patient.failure)).all())
    pairs = (select(PatientIdentifier.system, PatientIdentifier.value)
             .where(PatientIdentifier.system.is_not(None))
             .group_by(PatientIdentifier.system, PatientIdentifier.value)
             .having(func.count(func.distinct(PatientIdentifier.patient_pk)) > 1)).subquery()
    shared = (select(Patient.site, PatientIdentifier.value)
              .join(Patient, Patient.pk == PatientIdentifier.patient_pk)
              .group_by(Patient.site, PatientIdentifier.value)
              .having(func.count(func.distinct(PatientIdentifier.patient_pk)) > 1)).subquery()
    unbound = sum(1 for role, sites in session.execute(
        select(ApiToken.role, ApiToken.sites).where(ApiToken.revoked_at.is_(None))) if role != "admin" and not sites)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)  # SQLite keeps UTC without its offset
    return Overview(
        patients=registered,
        pending=waiting,
        oldest_pending_since=oldest,
        oldest_pending_seconds=max(0, int((now - oldest).total_seconds())) if oldest is not None else None,
        evaluations_failed=sum(failures.values()),
        evaluation_failures={kind or "unknown": n for kind, n in sorted(failures.items(), key=lambda kv: str(kv[0]))},
        due_for_review=due,
        alerts_unacknowledged=session.scalar(select(func.count()).where(Alert.acknowledged_at.is_(None))),
        alerts_undispatched=session.scalar(
            select(func.count()).where(Outbox.topic == "alert.created", Outbox.dispatched_at.is_(None))),
        deliveries_pending=deliveries.get("pending", 0),
        deliveries_failed=deliveries.get("failed", 0),
        last_message_at=session.scalar(select(func.max(Message.received_at))),
        duplicate_identifiers=session.scalar(select(func.count()).select_from(pairs)),
        shared_identifier_values=session.scalar(select(func.count()).select_from(shared)),
        tokens_without_site=unbound,
        **_amendment(session),
    )


def _amendment(session: Session) -> dict:
    from store import protocols

    row = protocols.active(session)
    if row is None:
        return {}
    when = row.activated_at.isoformat(timespec="seconds")
    return {"protocol_activated": f"{row.name} (version {row.version}) by {row.activated_by} at {when}",
            "protocol_rescreened": f"{protocols.rescreened(session, row)} of {row.patients}"}
