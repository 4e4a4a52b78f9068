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
- "myocit site identifier-system add SYSTEM --site S binds an identifier system to its sites; a Patient
  of another site carrying an identifier of that system is refused (403)."

``judge`` takes every such decision for a whole message at once, on what the store found for it
(``Known``), and returns the ``Plan`` the store writes: one table of rules, tested without a database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from domain.facts import Attestation, ConsentRecord, Fact, PatientProfile
from domain.privacy import claim_names


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


ROLES = ("lab", "coordinator", "investigator", "admin", "monitor")
SITE_BOUND_ROLES = ("lab", "coordinator", "investigator", "monitor")
"""Every role but admin acts for named sites only: a token of one of these names at least one."""


@dataclass(frozen=True)
class Caller:
    """Who sends or reads: a token's (or a signed-in user's) name, role and sites."""

    name: str
    role: str
    sites: frozenset[str] = frozenset()
    token_pk: int | None = None

    @property
    def authority(self) -> Authority:
        """The sites this caller acts for (an admin: every site)."""
        return Authority(None if self.role == "admin" else self.sites)

    def sees_site(self, site: str | None) -> bool:
        return self.authority.covers(site)

    @property
    def site_label(self) -> str:
        return "*" if self.role == "admin" else ",".join(sorted(self.sites))


class Refusal(StrEnum):
    """Why a resource or message is refused, with the HTTP status it is answered with."""

    OTHER_SITE = "other-site"
    SITE_FIXED = "site-fixed"
    SITE_MISSING = "site-missing"
    IDENTIFIER_HELD = "identifier-held"
    SYSTEM_OF_OTHER_SITE = "system-of-other-site"
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
    Refusal.SYSTEM_OF_OTHER_SITE: 403,
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
    Refusal.SYSTEM_OF_OTHER_SITE: "an identifier of this Patient belongs to a system bound to other sites "
                                  "(myocit site identifier-system)",
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
class Subject:
    """How a message names its patient: by Patient id (``kind`` "id"), or by an identifier ("ident"):
    with a ``system``, a pair unique across sites; without one, a value that names a patient only
    within the sender's sites (contract §13)."""

    kind: str
    value: str
    system: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "id":
            return f"id:{self.value}"
        return f"ident:{self.system or ''}|{self.value}"


@dataclass(frozen=True)
class Registration:
    """A Patient resource: who the patient is, where it is cared for, and how others may name it."""

    id: str
    profile: PatientProfile
    identifiers: tuple[tuple[str | None, str], ...] = ()
    site: str | None = None
    """The site the resource declares (managingOrganization); None: it declares none."""

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The identifiers with a system: those unique across sites."""
        return tuple((system, value) for system, value in self.identifiers if system)


@dataclass(frozen=True)
class Candidate:
    """A patient the store found for a name a message used: its Patient id and its site."""

    patient: str
    site: str | None


@dataclass(frozen=True)
class Match:
    """The outcome of naming a patient: ``patient`` found, or None (kept for a child not registered
    yet, within the sender's sites); or a ``refusal``."""

    patient: str | None = None
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


def attestation_refusal(role: str, attests: bool, other_data: bool) -> Refusal | None:
    """"Judgements belong to people": attestations come only from investigators, who post nothing but
    judgements and consent decisions (``other_data``: anything else, a Patient or a lab result)."""
    if attests and role != "investigator":
        return Refusal.NOT_AN_INVESTIGATOR
    if role == "investigator" and other_data:
        return Refusal.INVESTIGATORS_ATTEST_ONLY
    return None


def sent_from_elsewhere(addresses: Sequence[str], certificates: Sequence[str], address: str | None,
                        certificate: str | None) -> bool:
    """A registered HL7 sender bound to addresses (CIDR ranges) or to TLS client certificates (SHA-256
    fingerprints) speaks only from them: MSH-3 and MSH-4 are only what a sender writes (contract §6)."""
    if certificates and (certificate is None or certificate.lower() not in {c.lower() for c in certificates}):
        return True
    if not addresses:
        return False
    try:
        peer = ipaddress.ip_address(address or "")
    except ValueError:
        return True
    peer = getattr(peer, "ipv4_mapped", None) or peer
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in addresses]
    return not any(peer in network for network in networks if network.version == peer.version)


def judgement_refusal(claim: "Claim", role: str) -> Refusal | None:
    """Whether this item may come from a sender of ``role`` at all, whatever child it names."""
    attests = any(isinstance(f, Attestation) for f in claim.facts)
    other = claim.registration is not None or any(not isinstance(f, (Attestation, ConsentRecord))
                                                  for f in claim.facts)
    return attestation_refusal(role, attests, other)


class Claim(Protocol):
    """One item of a message as these rules see it (``ingest.items.Item``): the names it gives its
    patient, the facts it carries, and the Patient it registers, if any."""

    subjects: tuple[Subject, ...]
    facts: list[Fact]
    registration: Registration | None


@dataclass(frozen=True)
class Known:
    """What the store found for a message (under the patients' row locks): every patient any of its
    names could reach, by Patient id or by holding one of its identifier values, with its site and the
    identifiers it holds; and the sites each identifier system the message registers is bound to."""

    sites: Mapping[str, str | None] = field(default_factory=dict)
    """Patient id -> its site."""
    identifiers: Mapping[str, frozenset[tuple[str | None, str]]] = field(default_factory=dict)
    """Patient id -> the (system, value) pairs it holds (system None: a value without a system)."""
    system_sites: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Identifier system -> the sites it is bound to (``myocit site identifier-system``)."""
    objected: frozenset[str] = frozenset()
    """The names (``domain.privacy``) of the message's items that match a tombstone: an objected child."""
    tombstone_sites: frozenset[str] = frozenset()
    """The sites holding tombstones: where an admin's value without a system may name an objected child."""


@dataclass(frozen=True)
class Plan:
    """What the store writes for a message: the Patients it registers (item index -> site), the child
    each item's facts are filed under (item index -> Patient id; None: kept for a child not registered
    yet), and the items refused, in the order they were judged (an atomic message is refused for the
    first)."""

    registrations: dict[int, str]
    patients: dict[int, str | None]
    refused: dict[int, Refusal]
    dropped: frozenset[int] = frozenset()
    """Items naming an objected child (contract §17): acknowledged, never stored, never judged further."""

    @property
    def first_refusal(self) -> tuple[int, Refusal] | None:
        return next(iter(self.refused.items()), None)


class _Directory:
    """The patients of ``Known`` as the message is judged: each registration it accepts is applied,
    so later items of the same message see the child it registers and the identifiers it holds."""

    def __init__(self, known: Known) -> None:
        self.sites = dict(known.sites)
        self.held: dict[str, set[tuple[str | None, str]]] = {}
        self.holder_of_pair: dict[tuple[str, str], str] = {}
        self.holders_of_value: dict[str, set[str]] = {}
        for patient, pairs in known.identifiers.items():
            self._hold(patient, pairs)

    def _hold(self, patient: str, pairs) -> None:
        self.held[patient] = set(pairs)
        for system, value in pairs:
            if system:
                self.holder_of_pair[(system, value)] = patient
            self.holders_of_value.setdefault(value, set()).add(patient)

    def register(self, reg: Registration, site: str) -> None:
        for system, value in self.held.pop(reg.id, set()):
            if system and self.holder_of_pair.get((system, value)) == reg.id:
                del self.holder_of_pair[(system, value)]
            self.holders_of_value.get(value, set()).discard(reg.id)
        self.sites[reg.id] = site
        self._hold(reg.id, {(system or None, value) for system, value in reg.identifiers})

    def candidate(self, patient: str | None) -> Candidate | None:
        return Candidate(patient, self.sites[patient]) if patient in self.sites else None

    def find(self, subject: Subject, authority: Authority) -> Match:
        """The patient ``subject`` names: by id or (system, value) across sites; a value without a
        system within the sender's sites only, by identifier value or Patient id."""
        if subject.kind == "id":
            return match_exact(self.candidate(subject.value), authority)
        if subject.system:
            return match_exact(self.candidate(self.holder_of_pair.get((subject.system, subject.value))), authority)
        named = self.holders_of_value.get(subject.value, set()) | ({subject.value} & self.sites.keys())
        return match_within_sites([self.candidate(p) for p in sorted(named)], authority)


def _registration_refusal(reg: Registration, site: str, directory: _Directory,
                          system_sites: Mapping[str, frozenset[str]]) -> Refusal | None:
    """A Patient at ``site`` carrying a pair of a system bound to other sites, or a pair another child
    holds (already, or earlier in the same message)."""
    if any(system in system_sites and site not in system_sites[system] for system, _ in reg.pairs):
        return Refusal.SYSTEM_OF_OTHER_SITE
    if any(directory.holder_of_pair.get(pair, reg.id) != reg.id for pair in reg.pairs):
        return Refusal.IDENTIFIER_HELD
    return None


def judge(claims: Sequence[Claim], known: Known, authority: Authority, role: str) -> Plan:
    """Every identity and authority decision of contract §13 for one message, on what the store found:
    first who may send what, then each Patient in the order of the message (its site fixed, its
    identifiers its own), then which child each item's facts belong to, seeing the Patients this
    message registers."""
    refused: dict[int, Refusal] = {}
    dropped = objected_items(claims, known, authority)
    for index, claim in enumerate(claims):
        if index in dropped:
            continue
        if (refusal := judgement_refusal(claim, role)) is not None:
            refused[index] = refusal
    directory = _Directory(known)
    registrations: dict[int, str] = {}
    for index, claim in enumerate(claims):
        reg = claim.registration
        if reg is None or index in refused or index in dropped:
            continue
        site = registration_site(directory.candidate(reg.id), reg.site, authority)
        if not isinstance(site, Refusal):
            site = _registration_refusal(reg, site, directory, known.system_sites) or site
        if isinstance(site, Refusal):
            refused[index] = site
            continue
        registrations[index] = site
        directory.register(reg, site)
    patients: dict[int, str | None] = {}
    for index, claim in enumerate(claims):
        if not claim.facts or not claim.subjects or index in refused or index in dropped:
            continue
        found = match_any([directory.find(subject, authority) for subject in claim.subjects])
        if found.refusal is not None:
            refused[index] = found.refusal
        else:
            patients[index] = found.patient
    return Plan(registrations, patients, refused, frozenset(dropped))


def reader_match(subjects: Sequence[Subject], known: Known, authority: Authority) -> Match:
    """The child a reader's names find (the Patient an EHR prefetched, contract §15): the matching an
    intake's names get, within the reader's sites. A name that finds a child of another site, or names
    that find two children, find none (``refusal``); none found: ``patient`` None."""
    directory = _Directory(known)
    return match_any([directory.find(subject, authority) for subject in subjects])


def objected_items(claims: Sequence[Claim], known: Known, authority: Authority) -> set[int]:
    """The items naming a child whose family objected (any of their names matches a tombstone)."""
    if not known.objected:
        return set()
    sites = known.tombstone_sites if authority.sites is None else authority.sites
    return {index for index, claim in enumerate(claims)
            if claim_names(claim.subjects, claim.registration, sites) & known.objected}
