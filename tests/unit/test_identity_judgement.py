"""Contract §13 as one table: ``domain.identity.judge`` on what the store found, with no database.

Each row is a message (its items), the patients the store found, the sender, and the plan expected:
the Patients registered (item -> site), the child each item's facts go to (item -> Patient id; None:
kept for a child not registered yet) and the items refused (item -> refusal), in judgement order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from domain.facts import Attestation, Code, ConsentRecord, ConsentState, LabResult, PatientProfile, Quantity
from domain.identity import Authority, Known, Refusal, Registration, Subject, judge, sent_from_elsewhere

DAY = date(2026, 12, 1)
MRN_A, MRN_B = "urn:mrn:a", "urn:mrn:b"
LAB = LabResult("Observation/n", DAY, (Code("http://loinc.org", "751-8"),), quantity=Quantity(2.0, "10*9/L"))
ATTESTS = Attestation("Observation/j", DAY, "I01", "pass")
CONSENT = ConsentRecord("Consent/c", DAY, ConsentState.GIVEN)
A, B, AB, ADMIN = (Authority(frozenset({"a"})), Authority(frozenset({"b"})), Authority(frozenset({"a", "b"})),
                   Authority(None))


@dataclass
class It:
    subjects: tuple[Subject, ...] = ()
    facts: list = field(default_factory=list)
    registration: Registration | None = None


def by_id(pid: str) -> Subject:
    return Subject("id", pid)


def ident(value: str, system: str | None = None) -> Subject:
    return Subject("ident", value, system)


def result(*subjects: Subject, fact=LAB) -> It:
    return It(subjects, [fact])


def patient(pid: str, site: str | None = None, *identifiers: tuple[str | None, str]) -> It:
    return It((by_id(pid),), [], Registration(pid, PatientProfile(DAY.replace(year=2016)), identifiers, site))


# Site a: kid-a (MRN_A A-1, no-system value V-1), twin-1 (MRN_A B-7), twin-2 (other system B-7);
# site b: kid-b (MRN_B A-1).
WORLD = Known(
    sites={"kid-a": "a", "twin-1": "a", "twin-2": "a", "kid-b": "b"},
    identifiers={"kid-a": frozenset({(MRN_A, "A-1"), (None, "V-1")}), "twin-1": frozenset({(MRN_A, "B-7")}),
                 "twin-2": frozenset({("urn:other", "B-7")}), "kid-b": frozenset({(MRN_B, "A-1")})},
    system_sites={MRN_A: frozenset({"a"})},
)

CASES = {
    # Naming a child by Patient id: the sender's sites only.
    "id of own site": ([result(by_id("kid-a"))], A, "lab", {}, {0: "kid-a"}, {}),
    "id of another site": ([result(by_id("kid-b"))], A, "lab", {}, {}, {0: Refusal.OTHER_SITE}),
    "id not registered yet: kept": ([result(by_id("new"))], A, "lab", {}, {0: None}, {}),
    "admin names any site": ([result(by_id("kid-b"))], ADMIN, "lab", {}, {0: "kid-b"}, {}),
    # A (system, value) pair identifies one patient across sites.
    "pair of own site": ([result(ident("A-1", MRN_A))], A, "lab", {}, {0: "kid-a"}, {}),
    "pair held at another site": ([result(ident("A-1", MRN_B))], A, "lab", {}, {}, {0: Refusal.OTHER_SITE}),
    "pair held by nobody: kept": ([result(ident("Z-9", MRN_A))], A, "lab", {}, {0: None}, {}),
    # A value without a system: within the sender's sites, exactly one.
    "value of one child of own sites": ([result(ident("A-1"))], A, "lab", {}, {0: "kid-a"}, {}),
    "value only at another site: kept": ([result(ident("A-1"))], Authority(frozenset({"c"})), "lab", {},
                                         {0: None}, {}),
    "value of two children of own sites": ([result(ident("B-7"))], A, "lab", {}, {}, {0: Refusal.AMBIGUOUS}),
    "value of one child at each of two sites": ([result(ident("A-1"))], AB, "lab", {}, {},
                                                {0: Refusal.AMBIGUOUS}),
    "value without a system held without one": ([result(ident("V-1"))], A, "lab", {}, {0: "kid-a"}, {}),
    "value equal to a Patient id": ([result(ident("kid-a"))], A, "lab", {}, {0: "kid-a"}, {}),
    # HL7 PID-3: every repetition must find the same child.
    "repetitions agree": ([result(ident("A-1", MRN_A), ident("V-1"))], A, "lab", {}, {0: "kid-a"}, {}),
    "repetitions name two children": ([result(ident("A-1", MRN_A), ident("B-7", MRN_A))], A, "lab", {}, {},
                                      {0: Refusal.AMBIGUOUS}),
    "one repetition of another site": ([result(ident("A-1", MRN_A), ident("A-1", MRN_B))], A, "lab", {}, {},
                                       {0: Refusal.OTHER_SITE}),
    # Registering: the declared site, else the sender's only site; a child's site is fixed.
    "new Patient at its declared site": ([patient("new", "a")], A, "lab", {0: "a"}, {}, {}),
    "new Patient, the sender's only site": ([patient("new")], A, "lab", {0: "a"}, {}, {}),
    "new Patient, a sender of two sites": ([patient("new")], AB, "lab", {}, {}, {0: Refusal.SITE_MISSING}),
    "new Patient at another site": ([patient("new", "b")], A, "lab", {}, {}, {0: Refusal.OTHER_SITE}),
    "again at its site: a later version": ([patient("kid-a", "a", (MRN_A, "A-1"))], A, "lab", {0: "a"}, {}, {}),
    "again without a site keeps it": ([patient("kid-b")], AB, "lab", {0: "b"}, {}, {}),
    "again by another site's lab": ([patient("kid-b", "a")], A, "lab", {}, {}, {0: Refusal.OTHER_SITE}),
    "moved by a lab of both sites": ([patient("kid-b", "a")], AB, "lab", {}, {}, {0: Refusal.SITE_FIXED}),
    "twice in a message at two sites": ([patient("new", "a"), patient("new", "b")], AB, "lab", {0: "a"}, {},
                                         {1: Refusal.SITE_FIXED}),
    # Identifiers: one pair, one child; systems bound to sites.
    "a pair another child holds": ([patient("new", "a", (MRN_A, "B-7"))], A, "lab", {}, {},
                                   {0: Refusal.IDENTIFIER_HELD}),
    "a pair claimed twice in one message": ([patient("n1", "b", (MRN_B, "Z")), patient("n2", "b", (MRN_B, "Z"))],
                                            B, "lab", {0: "b"}, {}, {1: Refusal.IDENTIFIER_HELD}),
    "a system bound to another site": ([patient("new", "b", (MRN_A, "A-9"))], B, "lab", {}, {},
                                       {0: Refusal.SYSTEM_OF_OTHER_SITE}),
    "a system bound to its own site": ([patient("new", "a", (MRN_A, "A-9"))], A, "lab", {0: "a"}, {}, {}),
    "a system bound nowhere": ([patient("new", "b", ("urn:free", "A-9"))], B, "lab", {0: "b"}, {}, {}),
    "the same value in another system": ([patient("new", "b", (MRN_B, "B-7"))], B, "lab", {0: "b"}, {}, {}),
    "a value without a system is not unique": ([patient("new", "a", (None, "V-1"))], A, "lab", {0: "a"}, {}, {}),
    # Items of one message see the Patients it registers.
    "a result after its Patient, by id": ([patient("new", "a"), result(by_id("new"))], A, "lab", {0: "a"},
                                          {1: "new"}, {}),
    "a result after its Patient, by pair": ([patient("new", "a", (MRN_A, "A-9")), result(ident("A-9", MRN_A))],
                                            A, "lab", {0: "a"}, {1: "new"}, {}),
    "a refused Patient registers nothing": ([patient("new", "b"), result(by_id("new"))], A, "lab", {},
                                            {1: None}, {0: Refusal.OTHER_SITE}),
    "a Patient dropping an identifier": ([patient("kid-a", "a"), result(ident("A-1", MRN_A))], A, "lab",
                                         {0: "a"}, {1: None}, {}),
    # Judgements belong to people.
    "a lab attesting": ([result(by_id("kid-a"), fact=ATTESTS)], A, "lab", {}, {},
                        {0: Refusal.NOT_AN_INVESTIGATOR}),
    "an investigator attesting": ([result(by_id("kid-a"), fact=ATTESTS)], A, "investigator", {}, {0: "kid-a"}, {}),
    "an investigator recording consent": ([result(by_id("kid-a"), fact=CONSENT)], A, "investigator", {},
                                          {0: "kid-a"}, {}),
    "an investigator posting a result": ([result(by_id("kid-a"))], A, "investigator", {}, {},
                                         {0: Refusal.INVESTIGATORS_ATTEST_ONLY}),
    "an investigator registering": ([patient("new", "a")], A, "investigator", {}, {},
                                    {0: Refusal.INVESTIGATORS_ATTEST_ONLY}),
    # Refusals in judgement order: who may send first, then Patients, then names.
    "order of refusals": ([result(by_id("kid-b")), patient("x", "b"), result(by_id("kid-a"), fact=ATTESTS)], A,
                          "lab", {}, {}, {2: Refusal.NOT_AN_INVESTIGATOR, 1: Refusal.OTHER_SITE,
                                          0: Refusal.OTHER_SITE}),
    "items without facts or names are not matched": ([It((by_id("kid-b"),), []), It((), [LAB])], A, "lab", {}, {},
                                                     {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_judge(name):
    items, authority, role, registrations, patients, refused = CASES[name]
    plan = judge(items, WORLD, authority, role)
    assert plan.registrations == registrations
    assert plan.patients == patients
    assert list(plan.refused.items()) == list(refused.items())


def test_an_atomic_message_is_refused_for_its_first_refusal():
    plan = judge(CASES["order of refusals"][0], WORLD, A, "lab")
    assert plan.first_refusal == (2, Refusal.NOT_AN_INVESTIGATOR)
    assert judge([result(by_id("kid-a"))], WORLD, A, "lab").first_refusal is None


def test_nothing_found_is_nothing_known():
    plan = judge([patient("new", "a", (MRN_A, "A-1")), result(ident("A-1"))], Known(), A, "lab")
    assert (plan.registrations, plan.patients, plan.refused) == ({0: "a"}, {1: "new"}, {})


FP = "ab" * 32


@pytest.mark.parametrize("addresses, certificates, address, certificate, elsewhere", [
    ((), (), "192.0.2.1", None, False),                      # bound to nothing: any address let in
    (("10.0.0.0/8",), (), "10.1.2.3", None, False),
    (("10.0.0.0/8",), (), "192.0.2.1", None, True),
    (("10.0.0.0/8", "::1/128"), (), "::1", None, False),
    (("10.0.0.0/8",), (), "::ffff:10.0.0.7", None, False),   # an IPv4 peer on an IPv6 socket
    (("10.0.0.0/8",), (), None, None, True),
    ((), (FP,), "192.0.2.1", FP.upper(), False),
    ((), (FP,), "192.0.2.1", "cd" * 32, True),
    ((), (FP,), "192.0.2.1", None, True),                    # bound to a certificate, none presented
    (("10.0.0.0/8",), (FP,), "10.0.0.1", FP, False),         # both bindings must hold
    (("10.0.0.0/8",), (FP,), "192.0.2.1", FP, True),
])
def test_a_bound_sender_speaks_only_from_its_addresses_and_certificates(addresses, certificates, address,
                                                                       certificate, elsewhere):
    assert sent_from_elsewhere(addresses, certificates, address, certificate) is elsewhere
