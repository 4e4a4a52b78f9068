"""Identifier systems bound to sites (contract §13): a hospital's record numbers belong to its sites,
and a Patient of any other site carrying one is refused (``domain.identity.judge``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import SiteIdentifierSystem
from store.tokens import TokenError, check_sites

SYSTEM_LENGTH = 255
"""The width of ``patient_identifiers.system``."""


def check_system(system: str) -> str:
    clean = system.strip()
    if not clean or len(clean) > SYSTEM_LENGTH:
        raise TokenError(f"SYSTEM: 1 to {SYSTEM_LENGTH} characters, as Patient.identifier.system says it "
                         "(e.g. urn:oid:1.2.250.1.71.4.2.7)")
    return clean


def bind(session: Session, system: str, sites, now: datetime) -> list[str]:
    """Bind ``system`` to ``sites`` (at least one); binding again is harmless. The sites it is now bound to."""
    system = check_system(system)
    bound = set(sites_of(session, system))
    for site in check_sites("lab", sites):
        if site not in bound:
            session.add(SiteIdentifierSystem(system=system, site=site, created_at=now))
    session.flush()
    return sites_of(session, system)


def unbind(session: Session, system: str, sites) -> int:
    """Unbind ``system`` from ``sites``, or from every site when none is given; how many bindings went."""
    query = delete(SiteIdentifierSystem).where(SiteIdentifierSystem.system == check_system(system))
    if sites:
        query = query.where(SiteIdentifierSystem.site.in_(list(sites)))
    return session.execute(query).rowcount


def sites_of(session: Session, system: str) -> list[str]:
    return list(session.scalars(select(SiteIdentifierSystem.site).where(SiteIdentifierSystem.system == system)
                                .order_by(SiteIdentifierSystem.site)))


def bindings(session: Session) -> list[tuple[str, list[str]]]:
    """Every bound system with its sites, by system."""
    found: dict[str, list[str]] = {}
    for system, site in session.execute(select(SiteIdentifierSystem.system, SiteIdentifierSystem.site)
                                        .order_by(SiteIdentifierSystem.system, SiteIdentifierSystem.site)):
        found.setdefault(system, []).append(site)
    return list(found.items())
