"""What an operator checks first: is work flowing, is anything stuck, is anything failing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Alert, Delivery, Message, Outbox, Patient


@dataclass(frozen=True)
class Overview:
    patients: int
    pending: int
    """Patients with stored results not evaluated yet; it should fall back to 0 within seconds."""
    oldest_pending_since: datetime | None
    """When the oldest of them was last sent to a worker: older than ``SWEEP_AFTER_SECONDS`` means the
    sweeper is (or should be) re-sending it."""
    due_for_review: int
    """Patients whose re-screening date has come (the scheduler picks them every few minutes)."""
    alerts_unacknowledged: int
    alerts_undispatched: int
    deliveries_pending: int
    deliveries_failed: int
    last_message_at: datetime | None

    def to_json(self) -> dict:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def overview(session: Session, today: date) -> Overview:
    pending = (Patient.pending_seq > Patient.evaluated_seq) & Patient.registered.is_(True)
    registered, waiting, oldest, due = session.execute(
        select(
            func.count().filter(Patient.registered.is_(True)),
            func.count().filter(pending),
            func.min(Patient.enqueued_at).filter(pending),
            func.count().filter(Patient.registered.is_(True), Patient.next_review_at <= today),
        )
    ).one()
    deliveries = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    return Overview(
        patients=registered,
        pending=waiting,
        oldest_pending_since=oldest,
        due_for_review=due,
        alerts_unacknowledged=session.scalar(select(func.count()).where(Alert.acknowledged_at.is_(None))),
        alerts_undispatched=session.scalar(
            select(func.count()).where(Outbox.topic == "alert.created", Outbox.dispatched_at.is_(None))),
        deliveries_pending=deliveries.get("pending", 0),
        deliveries_failed=deliveries.get("failed", 0),
        last_message_at=session.scalar(select(func.max(Message.received_at))),
    )
