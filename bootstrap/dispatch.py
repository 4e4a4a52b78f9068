"""Sending work to the workers: the service layer's dispatcher port, over Celery.

Only ids travel (JSON, never pickle). A send that fails is not lost: the work is stored, and the
sweeper re-sends it from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bootstrap.celery_app import DELIVER, EVALUATE
from config.logs import request_id

log = logging.getLogger("myocit.dispatch")


class CeleryDispatcher:
    def __init__(self, celery: Callable) -> None:
        self._celery = celery

    def _send(self, name: str, args: list, kwargs: dict | None = None) -> None:
        try:
            # The request id travels in the task's headers, never in its arguments (ids only there).
            rid = request_id.get()
            self._celery().send_task(name, args=args, kwargs=kwargs or {},
                                     headers={"request_id": rid} if rid else None)
        except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the sweeper
            log.warning("enqueue of %s failed (%s); the sweeper will re-send", name, type(exc).__name__)

    def evaluate(self, patient_pks: list[int], as_of: str | None = None) -> None:
        for pk in patient_pks:
            self._send(EVALUATE, [pk], {"as_of": as_of} if as_of else None)

    def deliver(self, alert_pks: list[int]) -> None:
        for pk in alert_pks:
            self._send(DELIVER, [pk])
