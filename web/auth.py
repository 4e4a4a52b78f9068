"""Who is calling: bearer tokens with a role and a site."""

from __future__ import annotations

import asyncio
import time

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from service.access import caller_of_token
from domain.identity import Caller
from store.tokens import token_hash
from web.session import SignInThrottle

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
        address = client_address(request)
        rt = state.rt
        caller = await run_in_threadpool(caller_of_token, credentials.credentials, address, rt.uow(),
                                         clock=rt.clock)
        if caller is None:
            # Slowed, and more so with every unknown token from the same address (contract §13).
            await asyncio.sleep(state.unknown_token_throttle.failed(address))
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        known.put(key, caller)
    return caller


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def install(app) -> None:
    app.state.known_tokens = KnownTokens()
    app.state.unknown_token_throttle = SignInThrottle()


def require(*roles: str):
    allowed = set(roles) | {"admin"}

    async def check(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.role not in allowed:
            raise HTTPException(403, f"this route needs the role {' or '.join(sorted(roles))}")
        return caller

    return check
