"""Registered HL7 v2 senders (MLLP, contract §6): a sending system named by MSH-3 and MSH-4 (first
components) and the sites it may send for. It acts with the authority of a lab token of those sites."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.identity import Caller
from store.models import Hl7Sender
from store.tokens import TokenError, check_sites

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


FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def check_addresses(addresses) -> list[str]:
    """``--from``: addresses or CIDR ranges, normalised (``10.1.2.0/24``); TokenError otherwise."""
    try:
        return sorted({str(ipaddress.ip_network(a.strip(), strict=False)) for a in addresses if a.strip()})
    except ValueError:
        raise TokenError("--from: an address or CIDR range, such as 10.1.2.0/24 or 2001:db8::/32") from None


def check_certificates(fingerprints) -> list[str]:
    """``--certificate``: SHA-256 fingerprints, with or without colons, kept as lower-case hex."""
    clean = sorted({f.strip().replace(":", "").lower() for f in fingerprints if f.strip()})
    if not all(FINGERPRINT.fullmatch(f) for f in clean):
        raise TokenError("--certificate: the SHA-256 fingerprint of the client certificate, 64 hex digits "
                         "(openssl x509 -noout -fingerprint -sha256 -in cert.pem)")
    return clean


def active_sender(session: Session, application: str, facility: str) -> Hl7Sender | None:
    return session.scalar(select(Hl7Sender).where(Hl7Sender.application == application,
                                                  Hl7Sender.facility == facility,
                                                  Hl7Sender.revoked_at.is_(None)).limit(1))


def create_sender(session: Session, application: str, facility: str, sites: list[str] | tuple[str, ...],
                  now: datetime, addresses=(), certificates=()) -> Hl7Sender:
    """TokenError when a name, the sites (a lab's rules: at least one), an address or a fingerprint do
    not fit."""
    row = Hl7Sender(application=check_name("application", application), facility=check_name("facility", facility),
                    sites=check_sites("lab", sites), created_at=now, addresses=check_addresses(addresses),
                    certificates=check_certificates(certificates))
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
