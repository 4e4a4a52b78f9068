"""The pages' sign-in sessions, kept on the server (contract §13): only a hash of each session's id
is stored, so a copy of the table opens nothing."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.models import AccessMapping, ApiToken, UiSession


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def start(session: Session, session_id: str, token: ApiToken, now: datetime) -> None:
    session.add(UiSession(id_hash=id_hash(session_id), token_pk=token.pk, created_at=now))


def end(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(UiSession).where(UiSession.id_hash == id_hash(session_id), UiSession.ended_at.is_(None))
                    .values(ended_at=now))


def live_token(session: Session, session_id: str, started_after: datetime) -> ApiToken | None:
    """The token of a session neither ended nor older than ``started_after``, if it is not revoked."""
    return session.scalar(
        select(ApiToken).join(UiSession, UiSession.token_pk == ApiToken.pk)
        .where(UiSession.id_hash == id_hash(session_id), UiSession.ended_at.is_(None),
               UiSession.created_at > started_after, ApiToken.revoked_at.is_(None)))


def start_person(session: Session, session_id: str, person: dict, now: datetime) -> None:
    """A session of a person signed in through the provider: ``person`` holds ``issuer``, ``subject``,
    ``person_name``, ``role``, ``sites``, ``mapping_pks`` and ``id_token``."""
    session.add(UiSession(id_hash=id_hash(session_id), created_at=now, **person))


def live_person(session: Session, session_id: str, started_after: datetime) -> UiSession | None:
    """The provider's session neither ended nor older than ``started_after``, none of whose granting
    mappings has been removed since (contract §14: unmapping ends the sessions it granted)."""
    return live_person_by_hash(session, id_hash(session_id), started_after)


def live_person_by_hash(session: Session, hashed: str | None, started_after: datetime) -> UiSession | None:
    row = session.scalar(select(UiSession).where(UiSession.id_hash == hashed,
                                                 UiSession.ended_at.is_(None), UiSession.token_pk.is_(None),
                                                 UiSession.created_at > started_after))
    if row is None:
        return None
    granting = [int(pk) for pk in row.mapping_pks or ()]
    live = session.scalar(select(func.count()).select_from(AccessMapping)
                          .where(AccessMapping.pk.in_(granting), AccessMapping.removed_at.is_(None)))
    return row if granting and live == len(granting) else None


def id_token_of(session: Session, session_id: str) -> str | None:
    return session.scalar(select(UiSession.id_token).where(UiSession.id_hash == id_hash(session_id)))
