"""Thin tasks: receive ids, build a command, call its handler in ``service``, which opens the unit of
work, calls the domain, commits and emits.

Each is idempotent (a re-run after a crash or a duplicate delivery changes nothing more); the
handler's docstring says why.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from sqlalchemy.exc import OperationalError

from bootstrap import runtime
from bootstrap.celery_app import (DELIVER, EVALUATE, EVALUATE_BATCH, HEARTBEATS, NOTIFY, PURGE, RESCREEN_DUE,
                                  SHADOW_CHUNK, SWEEP, task_header)
from config.logs import request_id
from service import backlog, data_protection, deliveries, evaluation, fhir_subscriptions, schedule, shadow_runs
from service.commands import (DrainBacklog, EvaluatePatient, MarkEvaluationFailed, PlanDeliveries, PurgeExpired,
                              RescreenDue, ScreenShadowChunk, SendFhirNotifications,
                              SweepStalledWork)

log = logging.getLogger("myocit.workers")

# A database that is restarting or unreachable is worth retrying with backoff; anything else is a bug
# to surface, not to repeat (the sweeper re-sends pending work in any case).
TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": 2, "retry_backoff_max": 60,
             "retry_jitter": True, "max_retries": 8}


@shared_task(bind=True, name=EVALUATE, acks_late=True, **TRANSIENT)
def evaluate_patient(self, patient_pk: int, as_of: str | None = None) -> str | None:
    """Evaluate everything pending for one patient (``service.evaluation.evaluate_patient``).

    An evaluation that fails for another reason than the database is retried with backoff a bounded
    number of times, then the patient is marked failed (contract §13) until new data arrives.
    """
    rt = runtime()
    try:
        done = _evaluate(rt, patient_pk, as_of)
    except OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other error is bounded here, never retried for ever
        _failed(self, rt, patient_pk, exc)
        return None
    return done.status


@shared_task(bind=True, name=EVALUATE_BATCH, acks_late=True)
def evaluate_patients(self, patient_pks: list[int], as_of: str | None = None) -> dict[str, int]:
    """Evaluate several patients, one after another, each in its own unit of work under its own row
    lock (``service.evaluation.evaluate_patient``): Celery's cost per task is paid once per batch.

    Idempotent: each patient's evaluation is (a second delivery finds nothing pending for those already
    done). Where the backlog is drained (``MYOCIT_DRAIN_BACKLOG``, on for the embedded default), the task
    then screens every other child still pending (``service.backlog``), the same way. A patient whose evaluation fails is handed to ``evaluate_patient`` alone, which retries it
    with backoff and then marks it failed: one child's failure never fails, repeats or delays the others.
    """
    rt = runtime()
    own_ids, shared_id = task_header(self.request, "request_ids") or {}, request_id.get()
    done = {"evaluated": 0, "handed_on": 0}
    for pk in patient_pks:
        request_id.set(own_ids.get(str(pk), shared_id))
        try:
            _evaluate(rt, pk, as_of)
            done["evaluated"] += 1
        except Exception as exc:  # noqa: BLE001 - isolated: retried alone, never by failing the batch
            log.warning("evaluation of patient pk=%s failed in a batch (%s); retried on its own", pk,
                        type(exc).__name__)
            rt.dispatch.evaluate_alone(pk, as_of)
            done["handed_on"] += 1
    request_id.set(shared_id)
    if rt.settings.drains_backlog and as_of is None:
        drained = backlog.drain_backlog(DrainBacklog(rt.settings.drain_seconds, frozenset(patient_pks)), rt.uow(),
                                        clock=rt.clock, evaluate=lambda pk: _evaluate(rt, pk, None),
                                        hand_on=lambda pk, _exc: rt.dispatch.evaluate_alone(pk))
        done = {key: done[key] + drained[key] for key in done}
    return done


def _evaluate(rt, patient_pk: int, as_of: str | None):
    """One patient's evaluation: as of ``as_of`` for a scheduled re-screening, else today, for new data."""
    day = date.fromisoformat(as_of) if as_of else rt.clock.today()
    return evaluation.evaluate_patient(EvaluatePatient(patient_pk, day, "schedule" if as_of else "data"), rt.uow(),
                                       protocols=rt.protocols, clock=rt.clock, dispatch=rt.dispatch)


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
    evaluation.mark_evaluation_failed(MarkEvaluationFailed(patient_pk, kind), rt.uow(), clock=rt.clock)


@shared_task(name=RESCREEN_DUE, **TRANSIENT)
def rescreen_due(today: str | None = None) -> int:
    """Re-screen the children whose next review date has come (``service.schedule.rescreen_due``)."""
    rt = runtime()
    day = date.fromisoformat(today) if today else rt.clock.today()
    return schedule.rescreen_due(RescreenDue(day), rt.uow(), clock=rt.clock, dispatch=rt.dispatch)


@shared_task(name=SWEEP, **TRANSIENT)
def sweep() -> dict:
    """Re-send work stored but never finished (``service.schedule.sweep``)."""
    rt = runtime()
    older = rt.clock.now() - timedelta(seconds=rt.settings.sweep_after_seconds)
    return schedule.sweep(SweepStalledWork(older), rt.uow(), clock=rt.clock, dispatch=rt.dispatch)


@shared_task(name=DELIVER, acks_late=True, **TRANSIENT)
def deliver_alert(alert_pk: int) -> int:
    """Deliver an alert to its site's subscriptions (``service.deliveries.deliver_alert``)."""
    rt = runtime()
    return deliveries.deliver_alert(PlanDeliveries(alert_pk), rt.uow(), clock=rt.clock, settings=rt.settings,
                                    criterion_name=rt.protocol.criterion_name)


@shared_task(name=NOTIFY, acks_late=True, **TRANSIENT)
def fhir_notify(subscription_pk: int) -> int:
    """Handshake a FHIR subscription, or send its pending events in order
    (``service.fhir_subscriptions.notify``, idempotent: the handshake only while ``requested``, each
    event only while its delivery is pending)."""
    rt = runtime()
    return fhir_subscriptions.notify(SendFhirNotifications(subscription_pk), rt.uow(), clock=rt.clock,
                                     settings=rt.settings)


@shared_task(name=HEARTBEATS, **TRANSIENT)
def fhir_heartbeats() -> int:
    """Heartbeats to the FHIR subscriptions due one (``service.fhir_subscriptions.send_heartbeats``;
    idempotent: a heartbeat carries no event)."""
    rt = runtime()
    return fhir_subscriptions.send_heartbeats(rt.uow(), clock=rt.clock, settings=rt.settings)


@shared_task(name=SHADOW_CHUNK, acks_late=True, **TRANSIENT)
def shadow_chunk(chunk_pk: int) -> int | None:
    """Screen one chunk of a shadow run (``service.shadow_runs.screen_chunk``).

    Idempotent: it reads facts and stores no screening; a chunk already done is skipped, and a second
    result for it (a chunk sent again after its worker seemed lost) is dropped, the first one standing."""
    rt = runtime()
    return shadow_runs.screen_chunk(ScreenShadowChunk(chunk_pk), rt.uow(), clock=rt.clock)


@shared_task(name=PURGE, **TRANSIENT)
def purge_expired() -> dict:
    """The daily retention purge (``service.data_protection.purge``, contract §17). Idempotent: the
    children it purged are gone, so a second run the same day purges none (and logs a purge of 0)."""
    rt = runtime()
    return data_protection.purge(PurgeExpired("scheduler", rt.settings.retention_days, why="daily retention"),
                                 rt.uow(), clock=rt.clock)
