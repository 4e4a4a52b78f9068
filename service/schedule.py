"""Work no one posts: re-screening on time, and re-sending what was stored but never finished."""

from __future__ import annotations

import logging

from store import deliveries, fhir_subscriptions, screening
from store.uow import UnitOfWork
from service import cds_hooks
from service.commands import RescreenDue, SweepStalledWork
from service.ports import Clock, Dispatcher

log = logging.getLogger("myocit.schedule")
BATCH = 1000


def rescreen_due(cmd: RescreenDue, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher) -> int:
    """Mark and send the children whose ``next_review_at`` has come (and any missed while down).

    Idempotent: marking clears ``next_review_at`` in the same transaction, so a second run finds
    nobody new; evaluation sets the next date.
    """
    day, total = cmd.today.isoformat(), 0
    while True:
        with uow:
            due = screening.due_for_review(uow.session, cmd.today, BATCH)
            screening.mark_for_review(uow.session, due, clock.now())
            uow.on_commit(lambda due=due: dispatch.evaluate(due, day))
            uow.commit()
        total += len(due)
        if len(due) < BATCH:
            break
    if total:
        log.info("re-screening %d patients due on or before %s", total, day)
    return total


def sweep(cmd: SweepStalledWork, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher) -> dict:
    """Re-send pending patients (oldest first, those failed for good left out), undelivered alerts,
    deliveries whose next attempt has come, and FHIR subscriptions whose handshake was never sent;
    forget the CDS Hooks JWT ids of expired tokens.

    Idempotent: evaluation and delivery are themselves idempotent, so re-sending is always safe.
    """
    with uow:
        now = clock.now()
        pks = screening.stalled(uow.session, cmd.older_than)
        screening.touch_enqueued(uow.session, pks, now)
        alerts = [o.payload.get("alert") for o in screening.undispatched(uow.session, cmd.older_than)
                  if o.topic == "alert.created"]
        retries = [a for a in deliveries.requeue_due(uow.session, now, cmd.older_than) if a not in alerts]
        handshakes = fhir_subscriptions.to_handshake(uow.session, cmd.older_than)
        cds_hooks.sweep_jtis(uow.session, now)
        uow.on_commit(lambda: dispatch.evaluate(pks))
        if handshakes:
            uow.on_commit(lambda: dispatch.notify(handshakes))
        uow.on_commit(lambda: dispatch.deliver([a for a in alerts + retries if a]))
        uow.commit()
    if pks or alerts or retries:
        log.info("sweep re-sent %d evaluations, %d alert deliveries and %d delivery retries",
                 len(pks), len(alerts), len(retries))
    return {"evaluations": len(pks), "alerts": len(alerts), "retries": len(retries)}
