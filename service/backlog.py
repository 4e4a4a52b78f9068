"""Draining a backlog (the embedded default): a worker task that has screened its own children goes
on with every child still pending, read from the database, so a burst of messages is screened at the
engine's pace rather than one broker poll per task. Each child is screened by the same handler as
always (``service.evaluation.evaluate_patient``, its own transaction and row lock), so a child another
task screens first is simply found done; a child whose screening fails is handed on (to the task that
retries it alone) and not taken again by this drain."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable

from service.commands import DrainBacklog
from service.ports import Clock
from store import screening
from store.uow import UnitOfWork


def drain_backlog(cmd: DrainBacklog, uow: UnitOfWork, *, clock: Clock, evaluate: Callable[[int], object],
                  hand_on: Callable[[int, Exception], None]) -> dict[str, int]:
    """Screen pending children with ``evaluate(pk)`` until none is left or ``cmd.seconds`` have passed;
    ``hand_on(pk, error)`` for one that fails. Idempotent: it only screens what is pending."""
    deadline = clock.now() + timedelta(seconds=cmd.seconds)
    skip: set[int] = set(cmd.done)
    done = {"evaluated": 0, "handed_on": 0}
    while clock.now() < deadline:
        with uow:
            pks = screening.pending(uow.session, cmd.batch, skip)
        if not pks:
            break
        for pk in pks:
            skip.add(pk)  # once per drain: data arriving later sends its own task
            try:
                evaluate(pk)
                done["evaluated"] += 1
            except Exception as exc:  # noqa: BLE001 - isolated: handed on, never retried by this drain
                hand_on(pk, exc)
                done["handed_on"] += 1
            if clock.now() >= deadline:
                break
    return done
