"""Binding identifier systems to sites (contract §13: ``myocit site identifier-system``). Every change
is audited with who made it. Patients already stored are not judged again: the binding applies to
what arrives from now on."""

from __future__ import annotations

from store import audit
from store import identifier_systems as store
from store.tokens import TokenError
from store.uow import UnitOfWork
from service.commands import BindIdentifierSystem, UnbindIdentifierSystem
from service.errors import Invalid, NotFound
from service.ports import Clock


def bind_identifier_system(cmd: BindIdentifierSystem, uow: UnitOfWork, *, clock: Clock) -> list[str]:
    """The sites the system is bound to now; ``Invalid`` for a system or sites that do not fit."""
    with uow:
        try:
            sites = store.bind(uow.session, cmd.system, cmd.sites, clock.now())
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        audit.record(uow.session, cmd.actor, "identifier-system-bind", f"IdentifierSystem/{cmd.system.strip()}",
                     clock.now())
        uow.commit()
    return sites


def unbind_identifier_system(cmd: UnbindIdentifierSystem, uow: UnitOfWork, *, clock: Clock) -> int:
    """How many bindings were removed; ``NotFound`` when there was none."""
    with uow:
        try:
            removed = store.unbind(uow.session, cmd.system, cmd.sites)
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        if not removed:
            raise NotFound(f"{cmd.system.strip()} is not bound to those sites (see `myocit site identifier-system list`)")
        audit.record(uow.session, cmd.actor, "identifier-system-unbind", f"IdentifierSystem/{cmd.system.strip()}",
                     clock.now())
        uow.commit()
    return removed


def list_identifier_systems(uow: UnitOfWork) -> list[tuple[str, list[str]]]:
    with uow:
        return store.bindings(uow.session)
