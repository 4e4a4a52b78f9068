"""Screening a child: evaluate what is stored for it, store the result, raise the alert it calls for."""

from __future__ import annotations

import logging
import time

from dataclasses import dataclass

from domain import evaluate
from domain.alerting import AlertsStopped, EligibilityChanged, decide, status_changed
from store import audit, fhir_subscriptions, screening, screening_log
from store.uow import UnitOfWork
from service import metrics
from service import amendments
from service.commands import EvaluatePatient, MarkEvaluationFailed
from service.ports import Clock, Dispatcher, ProtocolSource


log = logging.getLogger("myocit.evaluation")


@dataclass(frozen=True)
class Evaluated:
    patient_pk: int
    screening_pk: int | None
    status: str | None
    alert_pk: int | None


def evaluate_patient(cmd: EvaluatePatient, uow: UnitOfWork, *, protocols: ProtocolSource, clock: Clock,
                     dispatch: Dispatcher) -> Evaluated:
    """Evaluate everything pending for one child under its row lock; store the screening and, when the
    domain says so, the alert (with its outbox event) in the same transaction; send the delivery after
    commit.

    Idempotent: it works only while ``pending_seq`` is ahead of ``evaluated_seq`` and closes that gap
    in the same transaction as the result, so a second delivery of the task finds nothing pending.
    """
    with uow:
        session = uow.session
        now = clock.now()
        row = screening.lock_patient(session, cmd.patient_pk)
        if row is None or not row.registered:
            return Evaluated(cmd.patient_pk, None, None, None)
        if row.pending_seq <= row.evaluated_seq:
            return Evaluated(row.pk, None, row.status, None)
        # The active version, read after the lock (contract §10): a child marked by an activation is
        # never screened under the version it replaces.
        protocol = protocols.in_session(session)
        started = time.perf_counter()
        record, fact_pks = screening.load_record(session, row, protocol)
        result = evaluate(record, protocol, cmd.as_of)
        trigger = amendments.trigger_for(row.screened_version, result.protocol_version, cmd.trigger)
        # The last stored result itself is read only when the status changed, to say what changed.
        before = screening.previous_verdicts(session, row.pk) if status_changed(row.status, result) else None
        # Whether a signed confirmation still stands matters only when the status changes (§9).
        confirmed = before is not None and screening_log.has_standing_confirmation(session, row.pk)
        events = decide(row.status, row.alerts_stopped_at is not None, result, before, confirmed=confirmed)
        screening_pk = screening.add_screening(session, row, result, fact_pks, now=now, trigger=trigger)
        alerts_stopped_at, alert_pk = row.alerts_stopped_at, None
        for event in events:
            if isinstance(event, AlertsStopped):
                alerts_stopped_at = now
                audit.record(session, "system", "alerts-stopped", None, now, screening_id=row.screening_id)
            elif isinstance(event, EligibilityChanged):
                alert_pk = screening.add_alert(session, row, screening_pk, event, now)
        screening.record_evaluation(session, row, result, now=now, alerts_stopped_at=alerts_stopped_at)
        if alert_pk is not None:
            fhir_subscriptions.number_events(session, alert_pk=alert_pk, patient_id=row.id, site=row.site,
                                             to_status=result.status.value, now=now)
            uow.on_commit(lambda: dispatch.deliver([alert_pk]))
        uow.commit()
    metrics.EVALUATIONS.inc()
    metrics.EVALUATION_SECONDS.observe(time.perf_counter() - started)
    if status_changed(row.status, result):
        metrics.STATUS_CHANGES.labels(row.status, result.status.value).inc()
    if alert_pk is not None:
        metrics.ALERTS.inc()
    log.info("screening %s of patient pk=%s stored: %s%s", screening_pk, row.pk, result.status.value,
             f", alert {alert_pk}" if alert_pk is not None else "")
    return Evaluated(row.pk, screening_pk, result.status.value, alert_pk)


def mark_evaluation_failed(cmd: MarkEvaluationFailed, uow: UnitOfWork, *, clock: Clock) -> None:
    """Idempotent: marking twice records the same pending mark as failed."""
    with uow:
        screening.mark_failed(uow.session, cmd.patient_pk, cmd.error_kind, clock.now())
        uow.commit()
