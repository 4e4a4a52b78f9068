"""The Celery application factory: JSON only, late acknowledgement, explicit task names."""

from __future__ import annotations

from celery import Celery
from celery.signals import task_postrun, task_prerun

from config.logs import request_id

from config.settings import Settings

EVALUATE = "myocit.evaluate_patient"
EVALUATE_BATCH = "myocit.evaluate_patients"
RESCREEN_DUE = "myocit.rescreen_due"
SWEEP = "myocit.sweep"
DELIVER = "myocit.deliver_alert"
NOTIFY = "myocit.fhir_notify"
HEARTBEATS = "myocit.fhir_heartbeats"
SHADOW_CHUNK = "myocit.shadow_chunk"
PURGE = "myocit.purge_expired"


def create_celery(settings: Settings) -> Celery:
    broker = settings.resolved_broker_url()
    app = Celery("myocit", broker=broker, include=["workers.tasks"])
    # Redis re-delivers unacknowledged tasks after the visibility timeout; other transports take
    # their options elsewhere (the SQLAlchemy transport passes them to create_engine).
    transport_options = {"visibility_timeout": 3600} if broker.startswith(("redis", "rediss")) else {}
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Evaluations vary in length: a worker takes one task at a time, so none waits behind a long one
        # in another worker's prefetch, and a warm shutdown returns nothing but the task in hand.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_default_queue="myocit",
        timezone=settings.timezone,
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": settings.sweep_every_seconds},
            "rescreen-due": {"task": RESCREEN_DUE, "schedule": settings.rescreen_every_seconds},
            "fhir-heartbeats": {"task": HEARTBEATS, "schedule": settings.heartbeat_every_seconds},
            "purge-expired": {"task": PURGE, "schedule": settings.purge_every_seconds},
        },
        worker_hijack_root_logger=False,
    )
    return app


def task_header(request, name: str):
    """A custom header a task was sent with (``bootstrap.dispatch``): an attribute of the request, or
    under ``headers``, by message protocol version."""
    value = getattr(request, name, None)
    return value if value is not None else (getattr(request, "headers", None) or {}).get(name)


@task_prerun.connect
def _request_id_of_task(task=None, **_) -> None:
    """The request id the task was sent with (``bootstrap.dispatch``), for its logs and what it sends."""
    request_id.set(task_header(task.request, "request_id") if task is not None else None)


@task_postrun.connect
def _forget_request_id(**_) -> None:
    request_id.set(None)
