"""Browser sessions for the pages.

The cookie holds only the bearer token's hash and a CSRF token, signed with a timestamp (itsdangerous)
so it cannot be forged or replayed past its age; the token itself is never stored. Every request looks
the hash up again, so revoking a token ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from store.models import ApiToken
from store.tokens import Caller

COOKIE = "myocit_session"
LOGIN_COOKIE = "myocit_login"
MAX_AGE = 12 * 3600
PAGE_ROLES = ("coordinator", "investigator", "admin")


class PageError(Exception):
    """A page that cannot be shown; rendered as HTML (401 becomes a redirect to sign-in)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Signer:
    """Signed, timestamped cookie values (itsdangerous), one salt per purpose."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=f"myocit-ui-{purpose}")

    def dumps(self, payload: dict) -> str:
        return self._serializer.dumps(payload)

    def loads(self, value: str | None, max_age: int) -> dict | None:
        if not value:
            return None
        try:
            payload = self._serializer.loads(value, max_age=max_age)
        except BadData:
            return None
        return payload if isinstance(payload, dict) else None


def _signer(request: Request, purpose: str) -> Signer:
    state = request.app.state
    if not hasattr(state, "ui_secret"):
        state.ui_secret = state.rt.settings.resolved_ui_secret()
    return Signer(state.ui_secret, purpose)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def session_value(request: Request, token_sha: str, csrf: str) -> str:
    return _signer(request, "session").dumps({"h": token_sha, "c": csrf})


def login_value(request: Request, csrf: str) -> str:
    return _signer(request, "login").dumps({"c": csrf})


def login_csrf(request: Request) -> str | None:
    payload = _signer(request, "login").loads(request.cookies.get(LOGIN_COOKIE), 3600)
    return payload.get("c") if payload else None


def same(expected: str | None, submitted: str | None) -> bool:
    return bool(expected) and bool(submitted) and hmac.compare_digest(str(expected), str(submitted))


def token_row(session, token_sha: str) -> ApiToken | None:
    live = ApiToken.revoked_at.is_(None)
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_sha, live))


def caller_of(row: ApiToken) -> Caller:
    return Caller(row.name or f"token-{row.pk}", row.role, row.site)


def signed_in(request: Request) -> Caller | None:
    """The caller behind the session cookie, if it is valid and its token may use the pages."""
    payload = _signer(request, "session").loads(request.cookies.get(COOKIE), MAX_AGE)
    if not payload or not isinstance(payload.get("h"), str):
        return None
    with request.app.state.rt.uow() as uow:
        row = token_row(uow.session, payload["h"])
        caller = caller_of(row) if row is not None else None
    if caller is None or caller.role not in PAGE_ROLES:
        return None
    request.state.csrf = payload.get("c")
    request.state.caller = caller
    return caller


def page_caller(*roles: str):
    """A dependency: the signed-in caller, who must hold one of ``roles`` (admin always may)."""
    allowed = set(roles) | {"admin"}

    def check(request: Request) -> Caller:
        caller = signed_in(request)
        if caller is None:
            raise PageError(401, "Please sign in.")
        if caller.role not in allowed:
            raise PageError(403, f"This page is for the role {' or '.join(sorted(roles))}.")
        return caller

    return check


def check_csrf(request: Request, submitted: str | None) -> None:
    if not same(getattr(request.state, "csrf", None), submitted):
        raise PageError(403, "This form has expired. Go back, reload the page and submit it again.")
