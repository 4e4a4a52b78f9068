"""The right child, from the right sender (contract §13).

A result filed under the wrong child can enrol a child who should not be dosed, so these rules come
before every other. They are decisions on what the store found, taken without the store: which
candidate patient a message names, whether its sender may speak for that child, and at which site a
child is registered.

- "A lab token posts data only for patients of its sites: a resource for a patient of another site is
  refused (403)."
- "A child's site is fixed when the Patient is first stored. A Patient posted again with another
  managingOrganization is refused with 409."
- "A (system, value) pair identifies at most one patient. A Patient carrying a pair already held by
  another patient is refused with 409."
- "A subject.identifier needs both system and value to match across sites; a value without a system
  matches only a patient of the sender's sites holding that value, and only when exactly one does."
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Authority:
    """The sites a sender may act for; ``sites`` None means every site (an administrator)."""

    sites: frozenset[str] | None

    def covers(self, site: str | None) -> bool:
        if self.sites is None:
            return True
        return site is not None and site in self.sites

    @property
    def only_site(self) -> str | None:
        """The one site of a single-site sender: where a Patient without managingOrganization goes."""
        if self.sites is not None and len(self.sites) == 1:
            return next(iter(self.sites))
        return None

    @property
    def scope(self) -> str | None:
        """The sites as kept with a fact held for a child not registered yet (``,a,b,``)."""
        if self.sites is None:
            return None
        return "," + ",".join(sorted(self.sites)) + ","


class Refusal(StrEnum):
    """Why a resource or message is refused, with the HTTP status it is answered with."""

    OTHER_SITE = "other-site"
    SITE_FIXED = "site-fixed"
    SITE_MISSING = "site-missing"
    IDENTIFIER_HELD = "identifier-held"
    AMBIGUOUS = "ambiguous"
    NOT_AN_INVESTIGATOR = "not-an-investigator"
    INVESTIGATORS_ATTEST_ONLY = "investigators-attest-only"

    @property
    def http_status(self) -> int:
        return _STATUS[self]

    @property
    def explanation(self) -> str:
        return _EXPLANATION[self]


_STATUS = {
    Refusal.OTHER_SITE: 403,
    Refusal.SITE_FIXED: 409,
    Refusal.SITE_MISSING: 422,
    Refusal.IDENTIFIER_HELD: 409,
    Refusal.AMBIGUOUS: 422,
    Refusal.NOT_AN_INVESTIGATOR: 403,
    Refusal.INVESTIGATORS_ATTEST_ONLY: 403,
}
_EXPLANATION = {
    Refusal.OTHER_SITE: "the patient belongs to a site this sender may not send for",
    Refusal.SITE_FIXED: "the patient is registered at another site; a child's site is fixed at "
                        "registration and only an administrator moves it (myocit patient move)",
    Refusal.SITE_MISSING: "Patient.managingOrganization is required (Organization/{site}): this sender "
                          "acts for several sites",
    Refusal.IDENTIFIER_HELD: "an identifier (system and value) of this Patient is already held by "
                             "another patient",
    Refusal.AMBIGUOUS: "patient not identified: the identifier matches several patients of this "
                       "sender's sites; send its system (FHIR) or a mapped assigning authority (HL7 v2)",
    Refusal.NOT_AN_INVESTIGATOR: "attestations (urn:myocit:criterion) are accepted only from an "
                                 "investigator's token",
    Refusal.INVESTIGATORS_ATTEST_ONLY: "an investigator's token posts attestations and consent decisions "
                                       "only",
}


class Refused(Exception):
    """A refusal raised where the whole message is refused (a transaction, one resource, HL7)."""

    def __init__(self, refusal: Refusal, where: str | None = None) -> None:
        super().__init__(refusal.explanation)
        self.refusal = refusal
        self.where = where


@dataclass(frozen=True)
class Candidate:
    """A registered patient the store found for a name a message used: its row and its site."""

    patient: int
    site: str | None


@dataclass(frozen=True)
class Match:
    """The outcome of naming a patient: ``patient`` found, or None (kept for a child not registered
    yet, within the sender's sites); or a ``refusal``."""

    patient: int | None = None
    refusal: Refusal | None = None


UNREGISTERED = Match()


def match_exact(holder: Candidate | None, authority: Authority) -> Match:
    """A name that identifies one patient across every site: a Patient id, or a (system, value)
    pair. Found at a site of the sender: that child; found elsewhere: refused; not found: kept."""
    if holder is None:
        return UNREGISTERED
    if not authority.covers(holder.site):
        return Match(refusal=Refusal.OTHER_SITE)
    return Match(holder.patient)


def match_within_sites(candidates: list[Candidate], authority: Authority) -> Match:
    """A name that identifies a patient only within the sender's sites (a value without a system):
    exactly one candidate of those sites, else ambiguous; none: kept for a child not registered."""
    mine = {c.patient for c in candidates if authority.covers(c.site)}
    if not mine:
        return UNREGISTERED
    if len(mine) > 1:
        return Match(refusal=Refusal.AMBIGUOUS)
    return Match(next(iter(mine)))


def match_any(matches: list[Match]) -> Match:
    """Several names of one patient (the repetitions of HL7 PID-3): one child, or refused. A refusal of
    any name stands; names that find different children are ambiguous; none found: kept."""
    for found in matches:
        if found.refusal is not None:
            return found
    patients = {m.patient for m in matches if m.patient is not None}
    if len(patients) > 1:
        return Match(refusal=Refusal.AMBIGUOUS)
    return Match(next(iter(patients))) if patients else UNREGISTERED


def registration_site(stored: Candidate | None, declared: str | None, authority: Authority) -> str | Refusal:
    """The site of a Patient being stored: the one it declares, else the one it already has, else
    the sender's only site. A sender may register children of its own sites only, and never moves one."""
    if stored is not None and not authority.covers(stored.site):
        return Refusal.OTHER_SITE
    site = declared or (stored.site if stored is not None else None) or authority.only_site
    if site is None:
        return Refusal.SITE_MISSING
    if not authority.covers(site):
        return Refusal.OTHER_SITE
    if stored is not None and stored.site is not None and stored.site != site:
        return Refusal.SITE_FIXED
    return site


def identifiers_free(holders: list[int], patient: int | None) -> bool:
    """True when no (system, value) pair of a Patient is held by another patient."""
    return all(holder == patient for holder in holders)


def attestation_refusal(role: str, attests: bool, other_data: bool) -> Refusal | None:
    """"Judgements belong to people": attestations come only from investigators, who post nothing but
    judgements and consent decisions (``other_data``: anything else, a Patient or a lab result)."""
    if attests and role != "investigator":
        return Refusal.NOT_AN_INVESTIGATOR
    if role == "investigator" and other_data:
        return Refusal.INVESTIGATORS_ATTEST_ONLY
    return None
