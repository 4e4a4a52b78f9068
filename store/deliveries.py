"""Alert deliveries: who gets which alert, claiming one to send, and the retry schedule.

One row per (alert, subscription), guarded by a unique constraint, so planning twice adds nothing. A
row is sent under its row lock and only while it is 'pending' and due: a second task for the same
alert waits for (SQLite, one writer) or skips (PostgreSQL, SKIP LOCKED) the row being sent, and then
finds it sent. Failures are retried with exponential backoff, then left 'failed' for a person to see
and retry.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import Alert, Delivery, FhirSubscription, Patient, ScreeningRow, Subscription

CHANNELS = ("email", "webhook")
STATUSES = ("pending", "sent", "failed", "stopped")
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    """A delivery locked for sending, with what the message needs (no ORM objects leave the store)."""

    pk: int
    channel: str
    target: str
    secret: str | None
    alert: dict
    delivery_id: str
    """The same on every attempt of this delivery, so a receiver can drop a repeat (delivery is at
    least once: a message sent before its outcome was stored is sent again)."""


def create_subscription(session: Session, *, site: str, channel: str, target: str,
                        now: datetime, language: str | None = None) -> Subscription:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    secret = "whsec_" + secrets.token_urlsafe(32) if channel == "webhook" else None
    row = Subscription(site=site, channel=channel, target=target, secret=secret, active=True, created_at=now,
                       language=language)
    session.add(row)
    session.flush()
    return row


def subscriptions(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.pk)))


def deactivate_subscription(session: Session, pk: int) -> Subscription | None:
    """Stop delivering to a subscription; None when there is none. The row stays, so the deliveries
    already made keep their history; pending retries to it are stopped when they come due."""
    row = session.get(Subscription, pk)
    if row is not None:
        row.active = False
        # A FHIR subscription deactivated here is ``off`` for FHIR too (contract §16).
        session.execute(update(FhirSubscription).where(FhirSubscription.subscription_pk == pk).values(status="off"))
    return row


def plan_deliveries(session: Session, alert_pk: int, now: datetime) -> None:
    """Add the missing deliveries of an alert, one per active subscription of its site.

    Nothing is planned for a child whose alerts were stopped (consent refused or withdrawn).
    """
    found = session.execute(
        select(Alert.site, Patient.alerts_stopped_at).join(Patient, Patient.pk == Alert.patient_pk)
        .where(Alert.pk == alert_pk)
    ).first()
    if found is None or found.alerts_stopped_at is not None or found.site is None:
        return
    # FHIR subscriptions (channel ``fhir``) are planned with their event numbers, in the alert's own
    # transaction (``store/fhir_subscriptions.py``).
    targets = session.scalars(
        select(Subscription.pk).where(Subscription.site == found.site, Subscription.active.is_(True),
                                      Subscription.channel.in_(CHANNELS))
    ).all()
    if not targets:
        return
    rows = [dict(alert_pk=alert_pk, subscription_pk=pk, status="pending", attempts=0, next_attempt_at=now,
                 enqueued_at=now, created_at=now) for pk in targets]
    # ON CONFLICT DO NOTHING, not check-then-insert: two tasks planning at once must not both insert.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Delivery).values(rows).on_conflict_do_nothing(
        index_elements=["alert_pk", "subscription_pk"]
    )
    session.execute(statement)


def due(session: Session, now: datetime, *, alert_pk: int | None = None, limit: int = 1000) -> list[int]:
    """Email and webhook deliveries due (FHIR events are sent in event order by their subscription)."""
    query = (select(Delivery.pk).join(Subscription, Subscription.pk == Delivery.subscription_pk)
             .where(Delivery.status == "pending", Delivery.next_attempt_at <= now, Subscription.channel.in_(CHANNELS)))
    if alert_pk is not None:
        query = query.where(Delivery.alert_pk == alert_pk)
    return list(session.scalars(query.order_by(Delivery.pk).limit(limit)))


def requeue_due(session: Session, now: datetime, older_than: datetime, limit: int = 1000) -> list[int]:
    """Alerts with a delivery due and no task sent for it lately; stamps them so the next sweep does
    not queue them again while the task waits for a worker."""
    rows = session.execute(
        select(Delivery.pk, Delivery.alert_pk)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
               (Delivery.enqueued_at.is_(None)) | (Delivery.enqueued_at < older_than))
        .order_by(Delivery.pk).limit(limit)
    ).all()
    if rows:
        session.execute(update(Delivery).where(Delivery.pk.in_([r.pk for r in rows])).values(enqueued_at=now))
    return sorted({r.alert_pk for r in rows})


def claim(session: Session, delivery_pk: int, now: datetime) -> Claimed | None:
    """Lock a due, pending delivery for sending; None when it is sent, failed, not due, or being sent.

    SQLite ignores FOR UPDATE: there, BEGIN IMMEDIATE already makes the transaction the only writer.
    """
    row = session.scalar(
        select(Delivery)
        .where(Delivery.pk == delivery_pk, Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    subscription = session.get(Subscription, row.subscription_pk)
    alert = session.get(Alert, row.alert_pk)
    patient = session.get(Patient, alert.patient_pk)
    if patient.alerts_stopped_at is not None or not subscription.active:
        row.status, row.next_attempt_at, row.enqueued_at = "stopped", None, None
        row.last_error = "alerts stopped for this patient" if subscription.active else "subscription inactive"
        return None
    screening = session.get(ScreeningRow, alert.screening_pk)
    content = dict(
        alert=alert.pk, screening_id=patient.id, from_status=alert.from_status, to_status=alert.to_status,
        changed=list(alert.changed), criteria=list(screening.result.get("criteria", [])),
        created_at=alert.created_at, birth_date=patient.birth_date, confirmed=bool(alert.confirmed),
        eligible_until=screening.result.get("eligible_until"), reasons=screening.reasons,
        language=subscription.language,
    )
    return Claimed(row.pk, subscription.channel, subscription.target, subscription.secret, content,
                   delivery_id(row))


_DELIVERY_IDS = uuid.UUID("1d5c1f0e-6a53-4a8e-9c4e-6d7963c0a1e7")


def delivery_id(row: Delivery) -> str:
    """A UUID derived from the delivery row: stable across its attempts, and not repeated by another
    database whose row numbers start again (its rows were created at other instants)."""
    created = row.created_at.replace(tzinfo=None).isoformat()
    return str(uuid.uuid5(_DELIVERY_IDS, f"{row.pk}/{row.alert_pk}/{row.subscription_pk}/{created}"))


def record_attempt(session: Session, delivery_pk: int, now: datetime, error: str | None) -> str:
    """Mark a claimed delivery sent, or schedule its next attempt (30 s, 1, 2, 4, 8 min), or give up."""
    row = session.get(Delivery, delivery_pk)
    row.attempts += 1
    row.enqueued_at = None
    if error is None:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, None
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at, row.last_error = "failed", None, error[:200]
    else:
        row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
        row.last_error = error[:200]
    return row.status


def retry(session: Session, delivery_pk: int, now: datetime) -> bool:
    """Give a failed delivery a fresh set of attempts, starting now; False when it is not failed."""
    row = session.scalar(select(Delivery).where(Delivery.pk == delivery_pk).with_for_update())
    if row is None or row.status != "failed":
        return False
    row.status, row.attempts, row.next_attempt_at, row.enqueued_at = "pending", 0, now, now
    return True


def find(session: Session, delivery_pk: int) -> tuple[Delivery, Subscription, str] | None:
    found = session.execute(_listing().where(Delivery.pk == delivery_pk)).first()
    return tuple(found) if found else None


def listing(session: Session, *, status: str | None = None, sites: list[str] | None = None,
            limit: int = 500) -> list[tuple[Delivery, Subscription, str]]:
    """Deliveries with their subscription and the screening id, oldest first; ``sites`` narrows."""
    query = _listing()
    if status is not None:
        query = query.where(Delivery.status == status)
    if sites is not None:
        query = query.where(Subscription.site.in_(sites))
    return [tuple(r) for r in session.execute(query.order_by(Delivery.pk).limit(limit))]


def _listing():
    return (
        select(Delivery, Subscription, Patient.id)
        .join(Subscription, Subscription.pk == Delivery.subscription_pk)
        .join(Alert, Alert.pk == Delivery.alert_pk)
        .join(Patient, Patient.pk == Alert.patient_pk)
    )
