"""Who is calling: bearer tokens with a role and a site."""

from __future__ import annotations

import time

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from store.tokens import Caller, authenticate, token_hash

_bearer = HTTPBearer(auto_error=False, description="A token from `myocit token create`.")

KNOWN_FOR_SECONDS = 5.0
"""A valid token is remembered this long per API process, sparing a database round trip on every
request of a busy lab; a revoked token stops working within this delay."""


class KnownTokens:
    def __init__(self, ttl: float = KNOWN_FOR_SECONDS) -> None:
        self._ttl = ttl
        self._held: dict[str, tuple[Caller, float]] = {}

    def get(self, key: str) -> Caller | None:
        held = self._held.get(key)
        if held is None or held[1] < time.monotonic():
            return None
        return held[0]

    def put(self, key: str, caller: Caller) -> None:
        if len(self._held) > 10_000:
            self._held.clear()
        self._held[key] = (caller, time.monotonic() + self._ttl)


async def current_caller(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    # Async, so that a token already known costs no thread hop; only a lookup goes to the thread pool.
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    known: KnownTokens = state.known_tokens
    key = token_hash(credentials.credentials)
    caller = known.get(key)
    if caller is None:
        caller = await run_in_threadpool(_look_up, state.rt, credentials.credentials)
        if caller is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        known.put(key, caller)
    return caller


def _look_up(rt, token: str) -> Caller | None:
    with rt.uow() as uow:
        return authenticate(uow.session, token)


def require(*roles: str):
    allowed = set(roles) | {"admin"}

    async def check(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.role not in allowed:
            raise HTTPException(403, f"this route needs the role {' or '.join(sorted(roles))}")
        return caller

    return check
