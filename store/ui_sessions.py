"""The pages' sign-in sessions, kept on the server (contract §13): only a hash of each session's id
is stored, so a copy of the table opens nothing."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import ApiToken, UiSession


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def start(session: Session, session_id: str, token: ApiToken, now: datetime) -> None:
    session.add(UiSession(id_hash=_id_hash(session_id), token_pk=token.pk, created_at=now))


def end(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(UiSession).where(UiSession.id_hash == _id_hash(session_id), UiSession.ended_at.is_(None))
                    .values(ended_at=now))


def live_token(session: Session, session_id: str, started_after: datetime) -> ApiToken | None:
    """The token of a session neither ended nor older than ``started_after``, if it is not revoked."""
    return session.scalar(
        select(ApiToken).join(UiSession, UiSession.token_pk == ApiToken.pk)
        .where(UiSession.id_hash == _id_hash(session_id), UiSession.ended_at.is_(None),
               UiSession.created_at > started_after, ApiToken.revoked_at.is_(None)))
