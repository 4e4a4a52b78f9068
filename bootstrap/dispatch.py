"""Sending work to the workers: the service layer's dispatcher port, over Celery.

Only ids travel (JSON, never pickle). A send that fails is not lost: the work is stored, and the
sweeper re-sends it from the database.

Evaluations travel in batches (``myocit.evaluate_patients``, at most ``evaluation_batch`` patients a
task): Celery's own cost per task is paid once per batch, not once per patient. Concurrent messages
for different children are gathered for ``dispatch_window_ms`` into one batch; a process that stops
before sending what it gathered loses nothing, since those patients are stored as pending and the
sweeper re-sends them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from bootstrap.celery_app import DELIVER, EVALUATE, EVALUATE_BATCH, NOTIFY, SHADOW_CHUNK
from config.logs import request_id

log = logging.getLogger("myocit.dispatch")


class CeleryDispatcher:
    def __init__(self, celery: Callable, *, batch: int = 32, window_seconds: float = 0.0) -> None:
        self._celery = celery
        self._batch = max(1, batch)
        self._gathering = _Gathering(self._send_batches, window_seconds, self._batch) if window_seconds > 0 else None

    def _send(self, name: str, args: list, kwargs: dict | None = None, headers: dict | None = None) -> None:
        try:
            self._celery().send_task(name, args=args, kwargs=kwargs or {}, headers=headers)
        except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the sweeper
            log.warning("enqueue of %s failed (%s); the sweeper will re-send", name, type(exc).__name__)

    def evaluate(self, patient_pks: list[int], as_of: str | None = None) -> None:
        rid = request_id.get()
        if self._gathering is not None and as_of is None and len(patient_pks) < self._batch:
            self._gathering.add(patient_pks, rid)
        else:
            self._send_batches({pk: rid for pk in patient_pks}, as_of)

    def evaluate_alone(self, patient_pk: int, as_of: str | None = None) -> None:
        """One patient in a task of its own: the task that retries it with backoff and, failing for
        good, marks it failed (a batch hands it a patient whose evaluation failed)."""
        rid = request_id.get()
        self._send(EVALUATE, [patient_pk], {"as_of": as_of} if as_of else None,
                   {"request_id": rid} if rid else None)

    def _send_batches(self, request_ids: dict[int, str | None], as_of: str | None = None) -> None:
        pks = list(request_ids)
        for start in range(0, len(pks), self._batch):
            chunk = pks[start:start + self._batch]
            self._send(EVALUATE_BATCH, [chunk], {"as_of": as_of} if as_of else None,
                       _request_headers({pk: request_ids[pk] for pk in chunk}))

    def deliver(self, alert_pks: list[int]) -> None:
        rid = request_id.get()
        for pk in alert_pks:
            self._send(DELIVER, [pk], headers={"request_id": rid} if rid else None)

    def notify(self, subscription_pks: list[int]) -> None:
        rid = request_id.get()
        for pk in subscription_pks:
            self._send(NOTIFY, [pk], headers={"request_id": rid} if rid else None)
    def shadow_chunks(self, chunk_pks: list[int]) -> None:
        for pk in chunk_pks:
            self._send(SHADOW_CHUNK, [pk])

    def flush(self) -> None:
        """Send what is being gathered now (at exit, and for tests)."""
        if self._gathering is not None:
            self._gathering.flush()


def _request_headers(request_ids: dict[int, str | None]) -> dict | None:
    """The request id travels in the task's headers, never in its arguments (ids only there); a batch
    gathered from several requests names each patient's."""
    known = {str(pk): rid for pk, rid in request_ids.items() if rid}
    if not known:
        return None
    distinct = set(known.values())
    if len(distinct) == 1 and len(known) == len(request_ids):
        return {"request_id": distinct.pop()}
    return {"request_ids": known}


class _Gathering:
    """Patients to evaluate, gathered from concurrent messages until the window ends or a batch is full.

    One daemon thread per process sends them; it is started on first use, in the process that uses it
    (never inherited across a fork).
    """

    def __init__(self, send: Callable[[dict], None], window: float, batch: int) -> None:
        self._send, self._window, self._batch = send, window, batch
        self._ready = threading.Condition()
        self._waiting: dict[int, str | None] = {}
        self._pid: int | None = None

    def add(self, patient_pks: list[int], rid: str | None) -> None:
        full = None
        with self._ready:
            self._started()
            for pk in patient_pks:
                self._waiting.setdefault(pk, rid)
            if len(self._waiting) >= self._batch:
                full, self._waiting = self._waiting, {}
            else:
                self._ready.notify()
        if full:
            self._send(full)

    def flush(self) -> None:
        with self._ready:
            taken, self._waiting = self._waiting, {}
        if taken:
            self._send(taken)

    def _started(self) -> None:
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._waiting = {}
        threading.Thread(target=self._run, name="myocit-dispatch", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting:
                    self._ready.wait()
            # The window starts with the first patient waiting; others arriving meanwhile join it.
            time.sleep(self._window)
            self.flush()
