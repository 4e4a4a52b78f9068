"""Who a bearer token is (contract §13): the API's callers."""

from __future__ import annotations

from store import audit
from domain.identity import Caller
from store.tokens import authenticate
from store.uow import UnitOfWork
from service.ports import Clock


def caller_of_token(token: str, address: str, uow: UnitOfWork, *, clock: Clock) -> Caller | None:
    """The token's caller; an unknown or revoked token is audited (with the address, never the value:
    a mistyped token is still most of a token)."""
    with uow:
        caller = authenticate(uow.session, token)
        if caller is None:
            audit.record(uow.session, "anonymous", "unknown-token", f"address {address}", clock.now())
            uow.commit()
        return caller
