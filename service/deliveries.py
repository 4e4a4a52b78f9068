"""Delivering an alert to its site's subscriptions, and sending a failed delivery again."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable

from delivery.channels import attempt
from delivery.messages import AlertContent
from store import deliveries, fhir_subscriptions
from store.delivery_state import mark_dispatched
from store.models import Delivery, Subscription, row_id_in_range
from store.uow import UnitOfWork
from service.commands import PlanDeliveries, RetryDelivery
from service.errors import Conflict, NotFound
from service import metrics
from service.fhir_subscriptions import send_events
from service.ports import Clock, Dispatcher

log = logging.getLogger("myocit.deliveries")

def deliver_alert(cmd: PlanDeliveries, uow: UnitOfWork, *, clock: Clock, settings,
                  criterion_name: Callable[[str], str] | None = None) -> int:
    """Plan an alert's deliveries (one per active subscription of its site), then send each one due;
    the number sent.

    Idempotent: planning inserts only the missing (alert, subscription) rows and marks the outbox event
    dispatched in the same transaction. Each delivery is then sent in its own transaction, under its
    row lock, and only while it is still 'pending': a second run, or a second worker, never re-sends a
    row marked sent. A crash after the channel accepted a message but before the commit leaves the row
    pending, so it is sent once more: at-least-once to the channel (receivers can drop repeats by the
    alert id), exactly-once per row otherwise. FHIR subscriptions' events are sent by
    ``service.fhir_subscriptions.send_events``: each subscription's earliest pending event first.
    """
    with uow:
        deliveries.plan_deliveries(uow.session, cmd.alert_pk, clock.now())
        mark_dispatched(uow.session, cmd.alert_pk, clock.now())
        due = deliveries.due(uow.session, clock.now(), alert_pk=cmd.alert_pk)
        hooks = fhir_subscriptions.with_pending(uow.session, cmd.alert_pk)
        uow.commit()
    sent = 0
    for delivery_pk in due:
        with uow:
            job = deliveries.claim(uow.session, delivery_pk, clock.now())
            if job is not None:
                content = AlertContent(**job.alert)
                lang = content.language or settings.language  # the subscription's, else MYOCIT_LANGUAGE (§18)
                content = replace(content, language=lang)
                if criterion_name is not None:
                    content = replace(content, names={cid: criterion_name(cid, lang) for cid in content.changed})
                error = attempt(job.channel, job.target, job.secret, content,
                                settings=settings, now=clock.now(), delivery_id=job.delivery_id)
                outcome = deliveries.record_attempt(uow.session, delivery_pk, clock.now(), error)
                sent += outcome == "sent"
                metrics.DELIVERIES.labels(job.channel, "sent" if error is None else "failed").inc()
                # The error's words come from the channel (an SMTP or HTTP status), never from patient data.
                log.info("delivery %s of alert %s by %s: %s", delivery_pk, cmd.alert_pk, job.channel,
                         "sent" if error is None else f"failed ({error}), now {outcome}")
            uow.commit()
    for subscription_pk in hooks:
        sent += send_events(subscription_pk, uow, clock=clock, settings=settings)
    return sent


def retry_delivery(cmd: RetryDelivery, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher):
    """A failed delivery of the caller's site, with fresh attempts; (delivery, subscription, patient id).

    ``NotFound`` when it is not the caller's site's; ``Conflict`` unless it failed."""
    with uow:
        found = deliveries.find(uow.session, cmd.delivery_id) if row_id_in_range(cmd.delivery_id) else None
        if found is None or not cmd.coordinator.sees_site(found[1].site):
            raise NotFound(f"no delivery {cmd.delivery_id} for this site")
        if not deliveries.retry(uow.session, cmd.delivery_id, clock.now()):
            raise Conflict(f"delivery {cmd.delivery_id} is {found[0].status}; only a failed one is retried")
        alert_pk = found[0].alert_pk
        uow.on_commit(lambda: dispatch.deliver([alert_pk]))
        uow.commit()
    return found


def _when(value) -> str | None:
    return value.isoformat() if value else None


def delivery_json(row: Delivery, subscription: Subscription, patient_id: str) -> dict:
    return {
        "id": row.pk,
        "alert": row.alert_pk,
        "patient": patient_id,
        "site": subscription.site,
        "channel": subscription.channel,
        "target": subscription.target,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_attempt_at": _when(row.next_attempt_at),
        "sent_at": _when(row.sent_at),
    }


def list_deliveries(reader, uow: UnitOfWork, *, status: str | None = None, limit: int = 500) -> list[dict]:
    """The deliveries of the reader's sites (every site's for an admin), oldest first."""
    with uow:
        sites = None if reader.role == "admin" else sorted(reader.sites)
        return [delivery_json(*row) for row in deliveries.listing(uow.session, status=status, sites=sites,
                                                                   limit=limit)]
