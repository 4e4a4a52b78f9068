"""Browser sessions for the pages.

Signing in stores a session row (its random id's hash, the token, when); the cookie carries the id
and a CSRF token, signed with a timestamp (itsdangerous) so it cannot be forged or replayed past its
age. Every request looks the session up again: signing out ends it on the server, and revoking the
token ends all of its sessions, at once. Failed sign-ins are audited and answered ever more slowly
from the same address (contract §13).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time

from fastapi import Request
from itsdangerous import BadData, URLSafeTimedSerializer

from service.sessions import PAGE_ROLES, SESSION_SECONDS, session_caller
from domain.identity import Caller
from config.language import gettext
from web.page_kit import PageError

__all__ = ["COOKIE", "LOGIN_COOKIE", "MAX_AGE", "PAGE_ROLES", "SignInThrottle", "check_csrf",
           "login_csrf", "login_value", "new_csrf", "page_caller", "same", "session_cookie", "signed_in"]

COOKIE = "myocit_session"
LOGIN_COOKIE = "myocit_login"
MAX_AGE = SESSION_SECONDS


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


class SignInThrottle:
    """Failed sign-ins per client address over the last ``window`` seconds; each new failure from an
    address is answered after ``base × 2^(n-1)`` seconds (at most ``ceiling``), so guessing tokens
    costs ever more time while an honest typo costs a moment. Per API process."""

    def __init__(self, base: float = 0.5, ceiling: float = 8.0, window: float = 900.0) -> None:
        self.base, self.ceiling, self.window = base, ceiling, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(address, ()) if now - t < self.window]
        if kept:
            self._failures[address] = kept
        else:
            self._failures.pop(address, None)
        return kept

    def failed(self, address: str, now: float | None = None) -> float:
        """Count a failure; the delay to wait before answering it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()
            recent = self._recent(address, now) + [now]
            self._failures[address] = recent
            return min(self.base * 2 ** (len(recent) - 1), self.ceiling)

    def failures(self, address: str, now: float | None = None) -> int:
        with self._lock:
            return len(self._recent(address, time.monotonic() if now is None else now))


def _signer(request: Request, purpose: str) -> Signer:
    state = request.app.state
    if not hasattr(state, "ui_secret"):
        state.ui_secret = state.rt.settings.resolved_ui_secret()
    return Signer(state.ui_secret, purpose)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def session_cookie(request: Request, session_id: str) -> str:
    """The cookie value that carries a stored session, with the CSRF token of its forms."""
    return _signer(request, "session").dumps({"s": session_id, "c": new_csrf()})


def login_value(request: Request, csrf: str) -> str:
    return _signer(request, "login").dumps({"c": csrf})


def login_csrf(request: Request) -> str | None:
    payload = _signer(request, "login").loads(request.cookies.get(LOGIN_COOKIE), 3600)
    return payload.get("c") if payload else None


def same(expected: str | None, submitted: str | None) -> bool:
    return bool(expected) and bool(submitted) and hmac.compare_digest(str(expected), str(submitted))


def signed_in(request: Request) -> Caller | None:
    """The caller behind the session cookie, if its session is live and its token may use the pages."""
    payload = _signer(request, "session").loads(request.cookies.get(COOKIE), MAX_AGE)
    if not payload or not isinstance(payload.get("s"), str):
        return None
    rt = request.app.state.rt
    caller = session_caller(payload["s"], rt.uow(), clock=rt.clock)
    if caller is None:
        return None
    request.state.csrf = payload.get("c")
    request.state.session_id = payload["s"]
    request.state.caller = caller
    return caller


def page_caller(*roles: str, admin: bool = True):
    """A dependency: the signed-in caller, who must hold one of ``roles`` (an admin too, unless
    ``admin`` is False: judgements belong to investigators alone)."""
    allowed = set(roles) | ({"admin"} if admin else set())

    def check(request: Request) -> Caller:
        caller = signed_in(request)
        if caller is None:
            raise PageError(401, gettext("Please sign in."))
        if caller.role not in allowed:
            raise PageError(403, gettext("This page is for the role {roles}.").format(roles=gettext(" or ").join(gettext(r) for r in sorted(roles))))
        return caller

    return check


def check_csrf(request: Request, submitted: str | None) -> None:
    if not same(getattr(request.state, "csrf", None), submitted):
        raise PageError(403, gettext("This form has expired. Go back, reload the page and submit it again."))
