"""Signing in to the pages, signing out, and who a live session is (contract §13).

A session is a row on the server (a hash of its random id, the token, when); the browser's cookie
carries the id, signed by the pages. Every attempt is audited, never with the pasted value: a
mistyped token is still most of a token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from store import audit, ui_sessions
from domain.identity import Caller
from store.tokens import caller_of, live_token, token_hash
from store.uow import UnitOfWork
from service.ports import Clock

PAGE_ROLES = ("coordinator", "investigator", "admin")
MONITOR_REFUSAL = ("A monitor reads the screening log and funnel of its sites through the API (GET /screening-log, "
                   "GET /funnel), with pseudonyms; the pages show children and are not open to monitors.")


def role_refusal(role: str | None) -> str:
    """The sentence a role without pages reads on the sign-in page."""
    return MONITOR_REFUSAL if role == "monitor" else f"The {role} role has no pages in myocit."
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class SignIn:
    """A new session (``session_id``), or why there is none: ``"unknown"`` (no live token has that
    value) or ``"role"`` (``role``'s tokens do not use the pages)."""

    session_id: str | None = None
    caller: Caller | None = None
    refused: str | None = None
    role: str | None = None


def sign_in(token: str, address: str, uow: UnitOfWork, *, clock: Clock) -> SignIn:
    with uow:
        now = clock.now()
        row = live_token(uow.session, token_hash(token)) if token.strip() else None
        caller = caller_of(row) if row is not None else None
        if caller is None:
            audit.record(uow.session, "anonymous", "sign-in-failed", f"address {address}", now)
            uow.commit()
            return SignIn(refused="unknown")
        if caller.role not in PAGE_ROLES:
            audit.record(uow.session, caller, "sign-in-refused", f"role {caller.role}", now)
            uow.commit()
            return SignIn(refused="role", role=caller.role)
        session_id = secrets.token_urlsafe(32)
        ui_sessions.start(uow.session, session_id, row, now)
        audit.record(uow.session, caller, "sign-in", None, now)
        uow.commit()
    return SignIn(session_id=session_id, caller=caller)


def sign_out(session_id: str | None, caller: Caller, uow: UnitOfWork, *, clock: Clock) -> None:
    with uow:
        if session_id:
            ui_sessions.end(uow.session, session_id, clock.now())
        audit.record(uow.session, caller, "sign-out", None, clock.now())
        uow.commit()


def person_label(issuer: str, subject: str, name: str | None) -> str:
    """How a person signed in through the provider is named in the audit and on what they record:
    by issuer, ``sub`` and the ``name`` claim (contract §14)."""
    return f"{name or subject} ({subject} at {issuer})"


def session_caller(session_id: str, uow: UnitOfWork, *, clock: Clock) -> Caller | None:
    """The caller of a session neither ended nor older than ``SESSION_SECONDS``: a token's that is live
    and may use the pages, or a person's whose granting mappings are all still in force."""
    oldest = clock.now() - timedelta(seconds=SESSION_SECONDS)
    with uow:
        row = ui_sessions.live_token(uow.session, session_id, oldest)
        caller = caller_of(row) if row is not None else None
        if caller is None:
            person = ui_sessions.live_person(uow.session, session_id, oldest)
            caller = None if person is None else Caller(
                person_label(person.issuer, person.subject, person.person_name), person.role,
                frozenset(person.sites or ()))
    return caller if caller is not None and caller.role in PAGE_ROLES else None


def ended_session_id_token(session_id: str | None, caller: Caller, uow: UnitOfWork, *, clock: Clock) -> str | None:
    """Sign out; the ID token the session was opened with, for the provider's own sign-out."""
    with uow:
        id_token = ui_sessions.id_token_of(uow.session, session_id) if session_id else None
        if session_id:
            ui_sessions.end(uow.session, session_id, clock.now())
        audit.record(uow.session, caller.name[:120], "sign-out", None, clock.now())
        uow.commit()
    return id_token
