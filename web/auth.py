"""Who is calling: bearer tokens with a role and a site."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from store.tokens import Caller, authenticate

_bearer = HTTPBearer(auto_error=False, description="A token from `myocit token create`.")


def current_caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    rt = request.app.state.rt
    with rt.uow() as uow:
        caller = authenticate(uow.session, credentials.credentials)
    if caller is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return caller


def require(*roles: str):
    allowed = set(roles) | {"admin"}

    def check(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.role not in allowed:
            raise HTTPException(403, f"this route needs the role {' or '.join(sorted(roles))}")
        return caller

    return check
