"""Registered HL7 v2 senders (contract §6): MLLP carries no token, so each sending system is
registered by its MSH-3 and MSH-4 (first components) with the sites it may send for, and acts with
the authority of a lab token of those sites (§13). Every act is audited with who did it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.identity import Caller, sent_from_elsewhere
from store import audit
from store import senders as store
from store.models import Hl7Sender, row_id_in_range
from store.tokens import TokenError
from store.uow import UnitOfWork
from service.commands import RegisterSender, RevokeSender
from service.errors import Conflict, Invalid, NotFound
from service.ports import Clock



@dataclass(frozen=True)
class SenderSummary:
    """A registered sender as its administrator is told about it."""

    pk: int
    application: str
    facility: str
    sites: list[str]
    created_at: datetime
    revoked_at: datetime | None
    addresses: list[str]
    """The ranges it may send from (``--from``); empty: any address MYOCIT_MLLP_ALLOW lets in."""
    certificates: list[str]
    """The fingerprints of the client certificates it may send with (``--certificate``); empty: any."""

    @classmethod
    def of(cls, row: Hl7Sender) -> SenderSummary:
        return cls(row.pk, row.application, row.facility, list(row.sites or ()), row.created_at, row.revoked_at,
                   list(row.addresses or ()), list(row.certificates or ()))

def register_sender(cmd: RegisterSender, uow: UnitOfWork, *, clock: Clock) -> SenderSummary:
    """``Invalid`` for names or sites that do not fit; ``Conflict`` when an active sender already has
    these names (revoke it first: one name, one authority)."""
    with uow:
        try:
            application = store.check_name("application", cmd.application)
            facility = store.check_name("facility", cmd.facility)
            if store.active_sender(uow.session, application, facility) is not None:
                raise Conflict(f"a sender {application}@{facility} is already registered (see `myocit sender "
                               "list`; revoke it to register it again with other sites)")
            row = store.create_sender(uow.session, application, facility, list(cmd.sites), clock.now(),
                                      cmd.addresses, cmd.certificates)
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        audit.record(uow.session, cmd.actor, "sender-create", f"Sender/{row.pk}", clock.now())
        registered = SenderSummary.of(row)
        uow.commit()
    return registered


def revoke_sender(cmd: RevokeSender, uow: UnitOfWork, *, clock: Clock) -> SenderSummary:
    """Idempotent: revoking twice keeps the first date. Its next message gets AR (unknown sender)."""
    with uow:
        row = store.revoke_sender(uow.session, cmd.sender_id, clock.now()) if row_id_in_range(cmd.sender_id) else None
        if row is None:
            raise NotFound(f"no sender {cmd.sender_id} (see `myocit sender list`)")
        audit.record(uow.session, cmd.actor, "sender-revoke", f"Sender/{cmd.sender_id}", clock.now())
        revoked = SenderSummary.of(row)
        uow.commit()
    return revoked


def list_senders(uow: UnitOfWork) -> list[SenderSummary]:
    with uow:
        return [SenderSummary.of(row) for row in store.senders(uow.session)]


def registered_sender(uow: UnitOfWork, application: str, facility: str) -> Caller | None:
    """The lab caller an active registered sender stands for; None when the names are not registered
    (or were revoked). Call inside ``with uow``."""
    if not application or not facility:
        return None
    row = store.active_sender(uow.session, application, facility)
    return store.caller_of(row) if row is not None else None


def sender_at(uow: UnitOfWork, application: str, facility: str, address: str | None,
              certificate: str | None) -> Caller | str | None:
    """The lab caller an active registered sender stands for; None when the names are not registered
    (or were revoked); "elsewhere" when the sender is bound to other addresses or certificates than
    the connection's (contract §6). Call inside ``with uow``."""
    if not application or not facility:
        return None
    row = store.active_sender(uow.session, application, facility)
    if row is None:
        return None
    if sent_from_elsewhere(row.addresses or (), row.certificates or (), address, certificate):
        return "elsewhere"
    return store.caller_of(row)
