"""Administration of registered children."""

from __future__ import annotations

from store.patients import move_patient as move
from store.uow import UnitOfWork
from service.commands import MovePatient
from service.errors import NotFound
from service.ports import Clock, Dispatcher


def move_patient(cmd: MovePatient, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher) -> str | None:
    """Move a child to another site (contract §13: only an admin does, audited); its former site.
    The child is re-screened for the new site.

    Idempotent: moving a child to the site it is at changes nothing but the audit log."""
    with uow:
        moved = move(uow.session, cmd.patient_id, cmd.site, actor=cmd.actor, now=clock.now())
        if moved is None:
            raise NotFound(f"no registered patient {cmd.patient_id}")
        before, pk = moved
        uow.on_commit(lambda: dispatch.evaluate([pk]))
        uow.commit()
    return before
