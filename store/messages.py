"""The message store as operators read it: what came in, when, from whom, what it became."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Fact, Message, Patient
from store.views import utc

STATUSES = ("filed", "waiting", "no-facts")
"""What a message became: its facts all filed under registered children; some kept for a child not
registered yet; or no facts at all (a resource type the protocol reads nothing from)."""


@dataclass(frozen=True)
class MessageSummary:
    pk: int
    received_at: datetime
    channel: str
    sender: str | None
    control_id: str | None
    ack_code: str | None
    facts: int
    unfiled: int
    patients: tuple[str, ...]

    @property
    def status(self) -> str:
        if not self.facts:
            return "no-facts"
        return "waiting" if self.unfiled else "filed"


def _summaries(session: Session, query) -> list[MessageSummary]:
    rows = session.execute(query).all()
    pks = [row.pk for row in rows]
    counts: dict[int, tuple[int, int]] = {}
    patients: dict[int, set[str]] = {}
    if pks:
        for message_pk, total, unfiled in session.execute(
                select(Fact.message_pk, func.count(), func.count().filter(Fact.patient_pk.is_(None)))
                .where(Fact.message_pk.in_(pks)).group_by(Fact.message_pk)):
            counts[message_pk] = (total, unfiled)
        for message_pk, pid in session.execute(
                select(Fact.message_pk, Patient.id).join(Patient, Patient.pk == Fact.patient_pk)
                .where(Fact.message_pk.in_(pks)).distinct()):
            patients.setdefault(message_pk, set()).add(pid)
    return [MessageSummary(row.pk, utc(row.received_at), row.channel, row.sender, row.control_id, row.ack_code,
                           *counts.get(row.pk, (0, 0)), tuple(sorted(patients.get(row.pk, ()))))
            for row in rows]


_LISTED = select(Message.pk, Message.received_at, Message.channel, Message.sender, Message.control_id,
                 Message.ack_code)


def listing(session: Session, *, channel: str | None = None, since: datetime | None = None,
            limit: int = 200) -> list[MessageSummary]:
    """The newest messages first."""
    query = _LISTED
    if channel:
        query = query.where(Message.channel == channel)
    if since is not None:
        query = query.where(Message.received_at >= since)
    return _summaries(session, query.order_by(Message.pk.desc()).limit(limit))


def summary(session: Session, message_pk: int) -> MessageSummary | None:
    found = _summaries(session, _LISTED.where(Message.pk == message_pk))
    return found[0] if found else None


def message(session: Session, message_pk: int) -> Message | None:
    return session.get(Message, message_pk)


def facts_of(session: Session, message_pk: int) -> list[Fact]:
    return list(session.scalars(select(Fact).where(Fact.message_pk == message_pk).order_by(Fact.pk)))


def pks_since(session: Session, since: datetime) -> list[int]:
    return list(session.scalars(select(Message.pk).where(Message.received_at >= since).order_by(Message.pk)))
