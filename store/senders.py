"""Registered HL7 v2 senders (MLLP, contract §6): a sending system named by MSH-3 and MSH-4 (first
components) and the sites it may send for. It acts with the authority of a lab token of those sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Hl7Sender
from store.tokens import Caller, TokenError, check_sites

NAME_LENGTH = 60
"""The width of MSH-3.1 and MSH-4.1 as kept (``messages.hl7_application``, ``hl7_senders.application``)."""


def caller_of(row: Hl7Sender) -> Caller:
    """The lab caller a registered sender stands for."""
    return Caller(f"{row.application}@{row.facility}", "lab", frozenset(row.sites or ()))


def check_name(what: str, value: str) -> str:
    clean = value.strip()
    if not clean or len(clean) > NAME_LENGTH or any(c in clean for c in "|^~\\&\r\n"):
        raise TokenError(f"--{what}: 1 to {NAME_LENGTH} characters, none of | ^ ~ \\ & (the first component "
                         f"of MSH-{3 if what == 'application' else 4}, as the sender writes it)")
    return clean


def active_sender(session: Session, application: str, facility: str) -> Hl7Sender | None:
    return session.scalar(select(Hl7Sender).where(Hl7Sender.application == application,
                                                  Hl7Sender.facility == facility,
                                                  Hl7Sender.revoked_at.is_(None)).limit(1))


def create_sender(session: Session, application: str, facility: str, sites: list[str] | tuple[str, ...],
                  now: datetime) -> Hl7Sender:
    """TokenError when a name or the sites do not fit (a lab's rules: at least one site)."""
    row = Hl7Sender(application=check_name("application", application), facility=check_name("facility", facility),
                    sites=check_sites("lab", sites), created_at=now)
    session.add(row)
    session.flush()
    return row


def senders(session: Session) -> list[Hl7Sender]:
    return list(session.scalars(select(Hl7Sender).order_by(Hl7Sender.pk)))


def revoke_sender(session: Session, pk: int, now: datetime) -> Hl7Sender | None:
    """Revoking twice keeps the first date; None when there is no such sender."""
    row = session.get(Hl7Sender, pk)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
    return row
