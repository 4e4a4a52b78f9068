"""FHIR subscriptions to eligibility changes (contract §16, R5 Subscriptions Backport IG 1.1 in R4):
create, read and delete a Subscription, its handshake, its events sent in order, heartbeats,
``$status`` and ``$events``.

A subscription reaches its creator's sites only (an admin's: every site, unless a ``site`` filter
narrows it); its events are numbered with the alert (``store/fhir_subscriptions.py``) and sent through
the alert deliveries' rows, retries and backoff, one at a time, in event order.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from delivery.errors import DeliveryError
from delivery.rest_hook import post
from domain import research
from domain.identity import Caller
from service import metrics
from service.commands import (CreateFhirSubscription, DeleteFhirSubscription, ReadFhirEvents, ReadFhirSubscription,
                              SendFhirNotifications)
from service.errors import Forbidden, Invalid, NotFound
from service.ports import Clock, Dispatcher
from store import audit, deliveries
from store import fhir_subscriptions as stored
from store.models import FhirSubscription, Subscription
from store.uow import UnitOfWork

log = logging.getLogger("myocit.fhir_subscriptions")
MAX_HEADERS = 10
MAX_EVENTS = 1000
"""``$events`` answers at most this many events at once; the caller asks again from the next number."""


@dataclass(frozen=True)
class Asked:
    """What a posted Subscription asks for, read and checked."""

    endpoint: str
    filters: list[str]
    content: str
    headers: list[str]
    heartbeat: int | None
    reason: str


def _extensions(element, url: str) -> list[dict]:
    if not isinstance(element, dict) or not isinstance(element.get("extension", []), list):
        return []
    return [e for e in element.get("extension", []) if isinstance(e, dict) and e.get("url") == url]


def read_request(resource: dict) -> Asked:
    """The Subscription as posted; ``Invalid`` naming the first element that does not fit."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Subscription":
        raise Invalid("a Subscription resource is expected")
    criteria = resource.get("criteria")
    if criteria != research.TOPIC_URL and not (isinstance(criteria, str)
                                               and criteria.rstrip("/").endswith(f"Basic/{research.TOPIC_ID}")):
        raise Invalid(f"Subscription.criteria: the topic is {research.TOPIC_URL}")
    if resource.get("status", "requested") != "requested":
        raise Invalid("Subscription.status: a new subscription is 'requested'")
    filters = [e.get("valueString") for e in _extensions(resource.get("_criteria"), research.FILTER_CRITERIA)]
    if not all(isinstance(f, str) and 0 < len(f) <= 500 for f in filters):
        raise Invalid("Subscription.criteria filter criteria: a valueString of at most 500 characters")
    channel = resource.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise Invalid("Subscription.channel.type: only rest-hook is offered")
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")) or len(endpoint) > 500 \
            or not endpoint.isascii() or not endpoint.isprintable() or " " in endpoint:
        raise Invalid("Subscription.channel.endpoint: an http(s) URL of at most 500 characters is expected")
    if channel.get("payload", "application/fhir+json") not in ("application/fhir+json", "application/json"):
        raise Invalid("Subscription.channel.payload: application/fhir+json")
    contents = [e.get("valueCode") for e in _extensions(channel.get("_payload"), research.PAYLOAD_CONTENT)]
    content = contents[0] if contents else "id-only"
    if content not in research.CONTENTS:
        raise Invalid("Subscription.channel.payload content: id-only or full-resource")
    headers = channel.get("header", [])
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS or not all(
            isinstance(h, str) and ":" in h and len(h) <= 500 and h.isascii() and h.isprintable() for h in headers):
        raise Invalid(f"Subscription.channel.header: at most {MAX_HEADERS} 'Name: value' strings")
    beats = [e.get("valueUnsignedInt") for e in _extensions(channel, research.HEARTBEAT_PERIOD)]
    heartbeat = beats[0] if beats else None
    if heartbeat is not None and (not isinstance(heartbeat, int) or isinstance(heartbeat, bool)
                                  or not 1 <= heartbeat <= 31 * 86400):
        raise Invalid("Subscription.channel heartbeat period: seconds, from 1 to 2678400")
    reason = resource.get("reason") or "Eligibility changes of MYOCIT candidates"
    if not isinstance(reason, str) or len(reason) > 200:
        raise Invalid("Subscription.reason: at most 200 characters")
    return Asked(endpoint, filters, content, list(headers), heartbeat, reason)


def create_subscription(cmd: CreateFhirSubscription, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher,
                        base_url: str) -> dict:
    """Store the subscription ``requested``, audited, and send its handshake after the commit; the
    Subscription as stored. ``Forbidden`` when a ``site`` filter names a site beyond the creator's."""
    asked = read_request(cmd.resource)
    try:
        filters = research.read_filters(asked.filters)
        caller_sites = None if cmd.creator.role == "admin" else frozenset(cmd.creator.sites)
        sites = research.reach(filters, caller_sites)
    except research.FilterError as exc:
        raise Invalid(str(exc)) from None
    except PermissionError as exc:
        raise Forbidden(str(exc)) from None
    with uow:
        plain, row = stored.create(
            uow.session, endpoint=asked.endpoint, sites=None if sites is None else sorted(sites),
            statuses=None if filters.statuses is None else sorted(filters.statuses), filters=asked.filters,
            content=asked.content, headers=asked.headers, heartbeat=asked.heartbeat, reason=asked.reason,
            actor=cmd.creator.name, now=clock.now())
        audit.record(uow.session, cmd.creator.name, "fhir-subscription-create", f"Subscription/{plain.pk}",
                     clock.now())
        answer = subscription_resource(plain, row)
        pk = plain.pk
        uow.on_commit(lambda: dispatch.notify([pk]))
        uow.commit()
    return answer


def _visible(session, subscription_id: str, reader: Caller, *, lock: bool = False):
    found = stored.find(session, int(subscription_id), lock=lock) \
        if subscription_id.isascii() and subscription_id.isdigit() and 0 < int(subscription_id) < 2**63 else None
    if found is None or not _reaches(reader, found[1]):
        raise NotFound(f"no Subscription/{subscription_id[:64]} for this caller")
    return found


def _reaches(reader: Caller, row: FhirSubscription) -> bool:
    """A reader sees a subscription only when it reaches no site the reader cannot see."""
    if reader.role == "admin":
        return True
    return row.sites is not None and set(row.sites) <= set(reader.sites)


def search_subscriptions(reader: Caller, uow: UnitOfWork, *, now) -> dict:
    """The FHIR subscriptions the reader sees (an admin: all; a coordinator: those reaching only its
    sites), as a ``searchset`` Bundle, oldest first."""
    with uow:
        found = [pair for pair in stored.all_of(uow.session) if _reaches(reader, pair[1])]
        subscriptions = [subscription_resource(*pair) for pair in found]
    return {"resourceType": "Bundle", "type": "searchset", "timestamp": research.instant(now),
            "total": len(subscriptions),
            "entry": [{"fullUrl": f"Subscription/{s['id']}", "resource": s, "search": {"mode": "match"}}
                      for s in subscriptions]}


def read_subscription(cmd: ReadFhirSubscription, uow: UnitOfWork) -> dict:
    with uow:
        return subscription_resource(*_visible(uow.session, cmd.subscription_id, cmd.reader))


def delete_subscription(cmd: DeleteFhirSubscription, uow: UnitOfWork, *, clock: Clock) -> None:
    """Idempotent: a deleted subscription is ``off``; deleting it again changes nothing. Its events
    stay (for ``$events``); those not sent yet are stopped when they come due."""
    with uow:
        plain, row = _visible(uow.session, cmd.subscription_id, cmd.reader, lock=True)
        plain.active, row.status = False, "off"
        stored.stop_pending(uow.session, plain.pk, "subscription off")
        audit.record(uow.session, cmd.reader.name, "fhir-subscription-delete", f"Subscription/{plain.pk}",
                     clock.now())
        uow.commit()


def subscription_resource(plain: Subscription, row: FhirSubscription) -> dict:
    """The Subscription as FHIR R4 with the backport profile (its headers are never answered back:
    they may carry the endpoint's credentials)."""
    channel = {"type": "rest-hook", "endpoint": plain.target, "payload": "application/fhir+json",
               "_payload": {"extension": [{"url": research.PAYLOAD_CONTENT, "valueCode": row.content}]}}
    if row.heartbeat_seconds:
        channel["extension"] = [{"url": research.HEARTBEAT_PERIOD, "valueUnsignedInt": row.heartbeat_seconds}]
    resource = {"resourceType": "Subscription", "id": str(plain.pk),
                "meta": {"profile": [research.SUBSCRIPTION_PROFILE]},
                "status": row.status, "reason": row.reason, "criteria": research.TOPIC_URL, "channel": channel}
    if row.filters:
        resource["_criteria"] = {"extension": [{"url": research.FILTER_CRITERIA, "valueString": f}
                                               for f in row.filters]}
    if row.error:
        resource["error"] = row.error
    return resource


def _url(base_url: str, pk: int) -> str:
    return f"{base_url.rstrip('/')}/fhir/Subscription/{pk}"


def _notified(event, content: str) -> research.NotifiedEvent:
    return research.NotifiedEvent(event.event_number, event.occurred_at, event.focus,
                                  event.resource if content == "full-resource" else None)


def status_bundle(cmd: ReadFhirSubscription, uow: UnitOfWork, *, base_url: str, now) -> dict:
    """``$status``: a searchset Bundle holding the subscription's status (a backport Parameters)."""
    with uow:
        plain, row = _visible(uow.session, cmd.subscription_id, cmd.reader)
        parameters = research.status_parameters(
            subscription_url=_url(base_url, plain.pk), status=row.status, kind="query-status",
            events_since_start=row.last_event_number, events=[], base_url=base_url.rstrip("/"))
    parameters["id"] = str(uuid.uuid4())
    return {"resourceType": "Bundle", "type": "searchset", "timestamp": research.instant(now), "total": 1,
            "entry": [{"fullUrl": f"urn:uuid:{parameters['id']}", "resource": parameters,
                       "search": {"mode": "match"}}]}


def events_bundle(cmd: ReadFhirEvents, uow: UnitOfWork, *, base_url: str, now) -> dict:
    """``$events``: the stored events from ``since`` to ``until`` (inclusive), as a notification Bundle
    of type ``query-event``, with the subscription's own payload content."""
    if (cmd.since is not None and cmd.since < 1) or (cmd.until is not None and cmd.until < 1):
        raise Invalid("eventsSinceNumber and eventsUntilNumber are event numbers, from 1")
    with uow:
        plain, row = _visible(uow.session, cmd.subscription_id, cmd.reader)
        events = stored.events(uow.session, plain.pk, cmd.since or 1, cmd.until, MAX_EVENTS)
        notified = [_notified(e, row.content) for e in events]
        return research.notification(
            bundle_id=str(uuid.uuid4()), subscription_url=_url(base_url, plain.pk), status=row.status,
            kind="query-event", events_since_start=row.last_event_number, events=notified,
            base_url=base_url.rstrip("/"), now=now)


def notify(cmd: SendFhirNotifications, uow: UnitOfWork, *, clock: Clock, settings) -> int:
    """Handshake a ``requested`` subscription, then send an active one's pending events in order; the
    number of events sent.

    Idempotent: the handshake is sent only while ``requested`` (a repeat after a crash before the
    commit sends it again, which a receiver accepts as the same handshake), and events go through
    ``send_events``, which sends only the earliest pending one, under its delivery row's lock.
    """
    with uow:
        found = stored.find(uow.session, cmd.subscription_pk)
        if found is None:
            return 0
        plain, row = found
        if row.status == "requested":
            bundle = research.notification(
                bundle_id=str(uuid.uuid4()), subscription_url=_url(settings.base_url, plain.pk), status="requested",
                kind="handshake", events_since_start=0, events=[], base_url=settings.base_url.rstrip("/"),
                now=clock.now())
            target, headers = plain.target, list(row.headers)
        else:
            bundle = None
    if bundle is not None:
        error = _send(bundle, target, headers, settings)
        with uow:
            _, locked = stored.find(uow.session, cmd.subscription_pk, lock=True)
            if locked.status == "requested":
                locked.status, locked.error = ("active", None) if error is None else ("error", error[:200])
                locked.last_sent_at = clock.now() if error is None else None
                if error is not None:
                    stored.stop_pending(uow.session, cmd.subscription_pk, "handshake refused")
            uow.commit()
        log.info("handshake of subscription %s: %s", cmd.subscription_pk, error or "accepted")
    return send_events(cmd.subscription_pk, uow, clock=clock, settings=settings)


def _send(bundle: dict, endpoint: str, headers: list[str], settings) -> str | None:
    try:
        post(bundle, endpoint, headers, timeout=settings.webhook_timeout_seconds)
    except DeliveryError as exc:
        return str(exc)
    return None


def send_events(subscription_pk: int, uow: UnitOfWork, *, clock: Clock, settings) -> int:
    """Send an active subscription's pending events, earliest first, one at a time; stop at the first
    that fails (it is retried with the deliveries' backoff; the later ones wait behind it) or that
    another worker holds. The number sent. An event given up after every retry is left ``failed``
    (visible and retryable like any delivery): the later ones then go on, and the receiver sees the
    gap in the numbers and fills it with ``$events``."""
    sent = 0
    while True:
        with uow:
            found = stored.find(uow.session, subscription_pk)
            unsent = stored.next_unsent(uow.session, subscription_pk) if found else None
            if unsent is not None and found[1].status in ("off", "error"):
                stored.stop_pending(uow.session, subscription_pk, f"subscription {found[1].status}")
                uow.commit()
            if unsent is None or found[1].status != "active":
                return sent
            now = clock.now()
            job = stored.claim(uow.session, unsent.delivery_pk, now)
            if job is None:
                uow.commit()
                return sent
            plain, row = found
            bundle = research.notification(
                bundle_id=str(uuid.uuid4()), subscription_url=_url(settings.base_url, plain.pk), status=row.status,
                kind="event-notification", events_since_start=job.event.event_number,
                events=[_notified(job.event, row.content)], base_url=settings.base_url.rstrip("/"), now=now)
            error = _send(bundle, plain.target, list(row.headers), settings)
            outcome = deliveries.record_attempt(uow.session, job.delivery_pk, clock.now(), error)
            if error is None:
                row.last_sent_at = clock.now()
            uow.commit()
        metrics.DELIVERIES.labels(stored.CHANNEL, "sent" if error is None else "failed").inc()
        log.info("event %s of subscription %s: %s", job.event.event_number, subscription_pk,
                 "sent" if error is None else f"failed ({error}), now {outcome}")
        if error is not None:
            return sent
        sent += 1


def send_heartbeats(uow: UnitOfWork, *, clock: Clock, settings) -> int:
    """A heartbeat to each active subscription that asked for them and has heard nothing for a period;
    the number sent. Idempotent: a heartbeat carries no event, so one more is harmless."""
    with uow:
        due = stored.heartbeats_due(uow.session, clock.now())
    beats = 0
    for pk in due:
        with uow:
            plain, row = stored.find(uow.session, pk)
            bundle = research.notification(
                bundle_id=str(uuid.uuid4()), subscription_url=_url(settings.base_url, pk), status=row.status,
                kind="heartbeat", events_since_start=row.last_event_number, events=[],
                base_url=settings.base_url.rstrip("/"), now=clock.now())
            target, headers = plain.target, list(row.headers)
        error = _send(bundle, target, headers, settings)
        if error is None:
            with uow:
                _, row = stored.find(uow.session, pk, lock=True)
                row.last_sent_at = clock.now()
                uow.commit()
            beats += 1
    return beats
