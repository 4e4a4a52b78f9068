"""Bearer tokens: shown once at creation, stored only as a SHA-256 hash, each bound to its sites."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.identity import ROLES, SITE_BOUND_ROLES, Caller
from store.models import ApiToken

MAX_SITE_LENGTH = 64




class TokenError(ValueError):
    """A token that cannot be made as asked (a role without a site, an unknown role)."""


def token_hash(token: str) -> str:
    """The only form in which a token is kept or compared."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def check_sites(role: str, sites: list[str] | tuple[str, ...]) -> list[str]:
    """The sites a new token of ``role`` is bound to, cleaned; TokenError when they do not fit."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}")
    clean = sorted({s.strip() for s in sites if s and s.strip()})
    if role in SITE_BOUND_ROLES and not clean:
        raise TokenError(f"a {role} token needs at least one --site (contract §13)")
    if role == "admin" and clean:
        raise TokenError("an admin token acts for every site: give no --site")
    for site in clean:
        if len(site) > MAX_SITE_LENGTH or "," in site:
            raise TokenError(f"a site is at most {MAX_SITE_LENGTH} characters, without commas")
    return clean


def create_token(session: Session, role: str, sites: list[str] | tuple[str, ...], name: str | None,
                 now: datetime) -> str:
    bound = check_sites(role, sites)
    token = "myo_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=token_hash(token), role=role, sites=bound, name=name, created_at=now))
    return token


def tokens(session: Session) -> list[ApiToken]:
    """Every token ever made (hashes only; a token itself is never stored)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.pk)))


def unbound_tokens(session: Session) -> list[ApiToken]:
    """Active tokens of a site-bound role that name no site (made before sites were required): the
    service refuses to start while any is left, and refuses them if it runs."""
    return [row for row in session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
            if row.role in SITE_BOUND_ROLES and not row.sites]


def set_sites(session: Session, pk: int, sites: list[str]) -> ApiToken | None:
    row = session.get(ApiToken, pk)
    if row is None:
        return None
    row.sites = check_sites(row.role, sites)
    return row


def revoke_token(session: Session, pk: int, now: datetime) -> ApiToken | None:
    """Revoke a token for good; None when there is no such token. Revoking twice keeps the first date.
    API processes remember a valid token for a few seconds (``web.auth.KNOWN_FOR_SECONDS``)."""
    row = session.get(ApiToken, pk)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
    return row


def caller_of(row: ApiToken) -> Caller | None:
    """The caller a token row stands for; None for a site-bound token that names no site."""
    sites = frozenset(row.sites or ())
    if row.role in SITE_BOUND_ROLES and not sites:
        return None
    return Caller(row.name or f"token-{row.pk}", row.role, sites, row.pk)


def live_token(session: Session, digest: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))


def authenticate(session: Session, token: str) -> Caller | None:
    row = live_token(session, token_hash(token))
    return caller_of(row) if row is not None else None
