"""Group mappings of the hospital's OpenID provider (contract §14): kept, listed, removed. Which
role and sites a person's groups give is decided in ``domain/access.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import GroupMapping
from store.models import AccessMapping


def mapping_of(row: AccessMapping) -> GroupMapping:
    return GroupMapping(row.pk, row.group_name, row.role, frozenset(row.sites or ()))


def create_mapping(session: Session, group: str, role: str, sites: list[str], now: datetime) -> AccessMapping:
    row = AccessMapping(group_name=group, role=role, sites=sites, created_at=now)
    session.add(row)
    session.flush()
    return row


def mappings(session: Session) -> list[AccessMapping]:
    """Every mapping, removed ones included, in the order they were made."""
    return list(session.scalars(select(AccessMapping).order_by(AccessMapping.pk)))


def active_mappings(session: Session, groups: list[str] | None = None) -> list[GroupMapping]:
    """The mappings in force, of ``groups`` only when given."""
    query = select(AccessMapping).where(AccessMapping.removed_at.is_(None))
    if groups is not None:
        query = query.where(AccessMapping.group_name.in_(groups))
    return [mapping_of(row) for row in session.scalars(query.order_by(AccessMapping.pk))]


def remove_mapping(session: Session, pk: int, now: datetime) -> AccessMapping | None:
    """Removing twice keeps the first date; None when there is no such mapping."""
    row = session.get(AccessMapping, pk)
    if row is not None and row.removed_at is None:
        row.removed_at = now
    return row
