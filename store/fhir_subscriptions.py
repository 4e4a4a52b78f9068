"""FHIR subscriptions (contract §16): the rows, the numbering of events, and the order they are sent in.

A FHIR subscription is a ``subscriptions`` row of channel ``fhir`` (so its deliveries are the alert
deliveries of ``store/deliveries.py``: retried with the same backoff, listed, retryable) with a
``fhir_subscriptions`` row for what FHIR says of it. Events are numbered in the transaction that stores
the alert, under the subscription row's lock (``number_events``), and each gets its delivery row there
too; ``next_unsent`` gives the earliest event still pending, which is the only one ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.research import matches, research_subject
from store.models import Delivery, FhirEvent, FhirSubscription, Subscription
from store.research import subject_facts

CHANNEL = "fhir"
LIVE = ("requested", "active")
"""Statuses under which events are numbered (not after a failed handshake, ``error``, nor once deleted, ``off``)."""


def create(session: Session, *, endpoint: str, sites: list[str] | None, statuses: list[str] | None,
           filters: list[str], content: str, headers: list[str], heartbeat: int | None, reason: str,
           actor: str, now: datetime) -> tuple[Subscription, FhirSubscription]:
    label = "*" if sites is None else ",".join(sorted(sites))
    plain = Subscription(site=label[:64], channel=CHANNEL, target=endpoint, secret=None, active=True, created_at=now)
    session.add(plain)
    session.flush()
    row = FhirSubscription(subscription_pk=plain.pk, status="requested", sites=sites, statuses=statuses,
                           filters=filters, content=content, headers=headers, heartbeat_seconds=heartbeat,
                           reason=reason, last_event_number=0, created_by=actor[:120], created_at=now)
    session.add(row)
    session.flush()
    return plain, row


def find(session: Session, pk: int, *, lock: bool = False) -> tuple[Subscription, FhirSubscription] | None:
    query = (select(Subscription, FhirSubscription)
             .join(FhirSubscription, FhirSubscription.subscription_pk == Subscription.pk)
             .where(Subscription.pk == pk))
    if lock:
        query = query.with_for_update(of=FhirSubscription)
    found = session.execute(query).first()
    return tuple(found) if found else None


def all_of(session: Session) -> list[tuple[Subscription, FhirSubscription]]:
    return [tuple(r) for r in session.execute(
        select(Subscription, FhirSubscription)
        .join(FhirSubscription, FhirSubscription.subscription_pk == Subscription.pk).order_by(Subscription.pk))]


def listing(session: Session) -> dict[int, FhirSubscription]:
    """The FHIR part of every FHIR subscription, by its subscription's pk."""
    return {row.subscription_pk: row for row in session.scalars(select(FhirSubscription))}


def number_events(session: Session, *, alert_pk: int, patient_id: str, site: str | None, to_status: str,
                  now: datetime) -> list[int]:
    """Give the alert its next event number on each live subscription it matches, with the
    ResearchSubject as it now stands, and plan its delivery; the subscriptions' pks. Called in the
    alert's transaction, after the screening is stored: the rows are locked in pk order (no deadlock
    between two evaluations), so two alerts never take the same number and none is skipped."""
    candidates = session.execute(select(FhirSubscription.pk, FhirSubscription.sites, FhirSubscription.statuses)
                                 .where(FhirSubscription.status.in_(LIVE))).all()
    wanted = sorted(c.pk for c in candidates if matches(site, to_status, c.sites, c.statuses))
    if not wanted:
        return []
    facts = subject_facts(session, sites=None, patient_id=patient_id)
    resource = research_subject(facts[0], now) if facts else {}
    focus = f"ResearchSubject/{patient_id}"
    numbered = []
    for row in session.scalars(select(FhirSubscription).where(FhirSubscription.pk.in_(wanted),
                                                              FhirSubscription.status.in_(LIVE))
                               .order_by(FhirSubscription.pk).with_for_update()):
        row.last_event_number += 1
        session.add(FhirEvent(subscription_pk=row.subscription_pk, event_number=row.last_event_number,
                              alert_pk=alert_pk, focus=focus, occurred_at=now, resource=resource))
        session.add(Delivery(alert_pk=alert_pk, subscription_pk=row.subscription_pk, status="pending", attempts=0,
                             next_attempt_at=now, enqueued_at=now, created_at=now))
        numbered.append(row.subscription_pk)
    session.flush()
    return numbered


def with_pending(session: Session, alert_pk: int) -> list[int]:
    """The FHIR subscriptions with a delivery of this alert still pending."""
    return list(session.scalars(
        select(Delivery.subscription_pk).join(Subscription, Subscription.pk == Delivery.subscription_pk)
        .where(Delivery.alert_pk == alert_pk, Delivery.status == "pending", Subscription.channel == CHANNEL)
        .order_by(Delivery.subscription_pk)))


@dataclass(frozen=True)
class Unsent:
    delivery_pk: int
    next_attempt_at: datetime | None
    event_number: int


def next_unsent(session: Session, subscription_pk: int) -> Unsent | None:
    """The subscription's earliest event whose delivery is still pending: the one to send next. Events
    sent, or given up after every retry (``failed``: a gap the receiver fills with ``$events``), are
    behind it."""
    found = session.execute(
        select(Delivery.pk, Delivery.next_attempt_at, FhirEvent.event_number)
        .join(FhirEvent, (FhirEvent.alert_pk == Delivery.alert_pk)
              & (FhirEvent.subscription_pk == Delivery.subscription_pk))
        .where(Delivery.subscription_pk == subscription_pk, Delivery.status == "pending")
        .order_by(FhirEvent.event_number).limit(1)).first()
    return Unsent(*found) if found else None


@dataclass(frozen=True)
class ClaimedEvent:
    """An event locked for sending, with what its notification needs."""

    delivery_pk: int
    event: FhirEvent


def claim(session: Session, delivery_pk: int, now: datetime) -> ClaimedEvent | None:
    """Lock a due, pending event delivery (None when another worker has it, or it is not due); a
    subscription deleted since stops it."""
    row = session.scalar(select(Delivery).where(Delivery.pk == delivery_pk, Delivery.status == "pending",
                                                Delivery.next_attempt_at <= now)
                         .with_for_update(skip_locked=True))
    if row is None:
        return None
    event = session.scalar(select(FhirEvent).where(FhirEvent.subscription_pk == row.subscription_pk,
                                                   FhirEvent.alert_pk == row.alert_pk))
    if not session.get(Subscription, row.subscription_pk).active:
        row.status, row.next_attempt_at, row.enqueued_at, row.last_error = "stopped", None, None, "subscription off"
        return None
    return ClaimedEvent(row.pk, event)


def stop_pending(session: Session, subscription_pk: int, why: str) -> int:
    """Stop the deliveries still pending of a subscription that will send nothing more (``off``, or
    ``error`` after its handshake), so that the sweeper stops offering them; their events stay for
    ``$events``."""
    return session.execute(
        update(Delivery).where(Delivery.subscription_pk == subscription_pk, Delivery.status == "pending")
        .values(status="stopped", next_attempt_at=None, enqueued_at=None, last_error=why[:200])).rowcount


def events(session: Session, subscription_pk: int, since: int, until: int | None, limit: int) -> list[FhirEvent]:
    query = select(FhirEvent).where(FhirEvent.subscription_pk == subscription_pk, FhirEvent.event_number >= since)
    if until is not None:
        query = query.where(FhirEvent.event_number <= until)
    return list(session.scalars(query.order_by(FhirEvent.event_number).limit(limit)))


def to_handshake(session: Session, older_than: datetime) -> list[int]:
    """Subscriptions still ``requested`` since before ``older_than``: their handshake was never sent."""
    return list(session.scalars(select(FhirSubscription.subscription_pk)
                                .where(FhirSubscription.status == "requested",
                                       FhirSubscription.created_at < older_than)
                                .order_by(FhirSubscription.pk)))


def heartbeats_due(session: Session, now: datetime) -> list[int]:
    """Active subscriptions asking for heartbeats whose endpoint has heard nothing for a period."""
    due = []
    for row in session.scalars(select(FhirSubscription).where(FhirSubscription.status == "active",
                                                              FhirSubscription.heartbeat_seconds.is_not(None))):
        last = row.last_sent_at or row.created_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        if (now - last).total_seconds() >= row.heartbeat_seconds:
            due.append(row.subscription_pk)
    return due
