"""Thin tasks: receive ids, open a unit of work, call the store and domain, commit, then emit.

Each is idempotent (a re-run after a crash or a duplicate delivery changes nothing more), and each
docstring says why.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from sqlalchemy.exc import OperationalError

from delivery.channels import attempt
from delivery.messages import AlertContent
from store import deliveries, screening
from workers.app import DELIVER, EVALUATE, RESCREEN_DUE, SWEEP
from workers.runtime import runtime

log = logging.getLogger("myocit.workers")


def send_best_effort(celery, name: str, args: list) -> None:
    """Send a task once the caller's transaction has committed. If the broker is down the work is
    not lost: it is stored, and the sweeper re-sends it from the database."""
    try:
        celery.send_task(name, args=args)
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the sweeper
        log.warning("enqueue of %s failed (%s); the sweeper will re-send", name, type(exc).__name__)


def enqueue_evaluations(patient_pks: list[int], as_of: str | None = None) -> None:
    celery = runtime().celery
    for pk in patient_pks:
        celery.send_task(EVALUATE, args=[pk], kwargs={"as_of": as_of} if as_of else {})


# A database that is restarting or unreachable is worth retrying with backoff; anything else is a bug
# to surface, not to repeat (the sweeper re-sends pending work in any case).
TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": 2, "retry_backoff_max": 60,
             "retry_jitter": True, "max_retries": 8}


@shared_task(bind=True, name=EVALUATE, acks_late=True, **TRANSIENT)
def evaluate_patient(self, patient_pk: int, as_of: str | None = None) -> str | None:
    """Evaluate everything pending for one patient.

    Idempotent: it works only while ``pending_seq`` is ahead of ``evaluated_seq`` and closes that gap
    in the same transaction as the result, so a second delivery finds nothing pending. An evaluation
    that fails for another reason than the database is retried with backoff a bounded number of times,
    then the patient is marked failed (contract §13) until new data arrives.
    """
    rt = runtime()
    day = date.fromisoformat(as_of) if as_of else rt.clock.today()
    try:
        with rt.uow() as uow:
            done = screening.evaluate_patient(
                uow.session, patient_pk, protocol=rt.protocol, as_of=day, now=rt.clock.now(),
                trigger="schedule" if as_of else "data",
            )
            if done.alert_pk is not None:
                alert_pk = done.alert_pk
                uow.on_commit(lambda: rt.celery.send_task(DELIVER, args=[alert_pk]))
            uow.commit()
    except OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other error is bounded here, never retried for ever
        _failed(self, rt, patient_pk, exc)
        return None
    if done.screening_pk is not None:
        log.info("patient pk=%s evaluated: %s", patient_pk, done.status)
    return done.status


def _failed(task, rt, patient_pk: int, exc: Exception) -> None:
    kind = type(exc).__name__
    attempt = task.request.retries + 1
    attempts = max(1, rt.settings.evaluation_attempts)
    if attempt < attempts and not task.request.called_directly:
        log.warning("evaluation of patient pk=%s failed (%s), attempt %d of %d", patient_pk, kind, attempt,
                    attempts)
        raise task.retry(exc=exc, countdown=min(2 ** attempt, 60), max_retries=attempts - 1)
    # The error's kind only: its message or traceback may quote patient data.
    log.error("evaluation of patient pk=%s failed for good (%s) after %d attempts; marked failed until new "
              "data arrives", patient_pk, kind, attempt)
    with rt.uow() as uow:
        screening.mark_failed(uow.session, patient_pk, kind, rt.clock.now())
        uow.commit()


@shared_task(name=RESCREEN_DUE, **TRANSIENT)
def rescreen_due(today: str | None = None) -> int:
    """Mark and enqueue the patients whose ``next_review_at`` has come (and any missed while down).

    Idempotent: marking clears ``next_review_at`` in the same transaction, so a second run finds
    nobody new; evaluation sets the next date.
    """
    rt = runtime()
    day = date.fromisoformat(today) if today else rt.clock.today()
    total = 0
    while True:
        with rt.uow() as uow:
            due = screening.due_for_review(uow.session, day)
            screening.mark_for_review(uow.session, due, rt.clock.now())
            uow.on_commit(lambda due=due: enqueue_evaluations(due, day.isoformat()))
            uow.commit()
        total += len(due)
        if len(due) < 1000:
            break
    if total:
        log.info("re-screening %d patients due on or before %s", total, day.isoformat())
    return total


@shared_task(name=SWEEP, **TRANSIENT)
def sweep() -> dict:
    """Re-send work that was stored but never finished: pending patients, undelivered alerts, and
    deliveries whose next attempt has come.

    Idempotent: evaluation and delivery are themselves idempotent, so re-sending is always safe.
    """

    rt = runtime()
    now = rt.clock.now()
    older = now - timedelta(seconds=rt.settings.sweep_after_seconds)
    with rt.uow() as uow:
        pks = screening.stalled(uow.session, older)
        screening.touch_enqueued(uow.session, pks, now)
        alerts = [o.payload.get("alert") for o in screening.undispatched(uow.session, older)
                  if o.topic == "alert.created"]
        retries = [a for a in deliveries.requeue_due(uow.session, now, older) if a not in alerts]
        uow.on_commit(lambda: enqueue_evaluations(pks))
        uow.on_commit(lambda: [rt.celery.send_task(DELIVER, args=[a]) for a in alerts + retries if a])
        uow.commit()
    if pks or alerts or retries:
        log.info("sweep re-sent %d evaluations, %d alert deliveries and %d delivery retries",
                 len(pks), len(alerts), len(retries))
    return {"evaluations": len(pks), "alerts": len(alerts), "retries": len(retries)}


@shared_task(name=DELIVER, acks_late=True, **TRANSIENT)
def deliver_alert(alert_pk: int) -> int:
    """Plan an alert's deliveries (one per active subscription of its site), then send each one due.

    Idempotent: planning inserts only the missing (alert, subscription) rows and marks the outbox event
    dispatched in the same transaction. Each delivery is then sent in its own transaction, under its
    row lock, and only while it is still 'pending': a second run, or a second worker, never re-sends a
    row marked sent. A crash after the channel accepted a message but before the commit leaves the row
    pending, so it is sent once more: at-least-once to the channel (receivers can drop repeats by the
    alert id), exactly-once per row otherwise.
    """
    from store.delivery_state import mark_dispatched

    rt = runtime()
    with rt.uow() as uow:
        deliveries.plan_deliveries(uow.session, alert_pk, rt.clock.now())
        mark_dispatched(uow.session, alert_pk, rt.clock.now())
        due = deliveries.due(uow.session, rt.clock.now(), alert_pk=alert_pk)
        uow.commit()
    sent = 0
    for delivery_pk in due:
        with rt.uow() as uow:
            job = deliveries.claim(uow.session, delivery_pk, rt.clock.now())
            if job is not None:
                error = attempt(job.channel, job.target, job.secret, AlertContent(**job.alert),
                                settings=rt.settings, now=rt.clock.now())
                sent += deliveries.record_attempt(uow.session, delivery_pk, rt.clock.now(), error) == "sent"
            uow.commit()
    return sent
