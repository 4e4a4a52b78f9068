"""Bearer tokens: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import ApiToken

ROLES = ("lab", "coordinator", "investigator", "admin")


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    site: str | None

    def sees_site(self, site: str | None) -> bool:
        return self.role == "admin" or (self.site is not None and self.site == site)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, role: str, site: str | None, name: str | None, now: datetime) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = "myo_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_hash(token), role=role, site=site, name=name, created_at=now))
    return token


def tokens(session: Session) -> list[ApiToken]:
    """Every token ever made (hashes only; a token itself is never stored)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.pk)))


def revoke_token(session: Session, pk: int, now: datetime) -> ApiToken | None:
    """Revoke a token for good; None when there is no such token. Revoking twice keeps the first date.
    API processes remember a valid token for a few seconds (``web.auth.KNOWN_FOR_SECONDS``)."""
    row = session.get(ApiToken, pk)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
    return row


def authenticate(session: Session, token: str) -> Caller | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None)))
    if row is None:
        return None
    return Caller(row.name or f"token-{row.pk}", row.role, row.site)
