"""The Celery application factory: JSON only, late acknowledgement, explicit task names."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init

from config.settings import Settings

EVALUATE = "myocit.evaluate_patient"
RESCREEN_DUE = "myocit.rescreen_due"
SWEEP = "myocit.sweep"
DELIVER = "myocit.deliver_alert"


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
        worker_prefetch_multiplier=4,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_default_queue="myocit",
        timezone=settings.timezone,
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": settings.sweep_every_seconds},
            "rescreen-due": {"task": RESCREEN_DUE, "schedule": settings.rescreen_every_seconds},
        },
        worker_hijack_root_logger=False,
    )
    return app


@worker_process_init.connect
def _fresh_connections_after_fork(**_) -> None:
    from bootstrap import runtime

    runtime().dispose()
