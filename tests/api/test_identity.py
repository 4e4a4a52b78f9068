"""Contract §13 on every intake path: the right child, from the right sender.

Each case runs on each path (a transaction Bundle, a batch Bundle, one resource, HL7 v2 over HTTP);
for every refusal it checks the answer, and that nothing was stored and no status or site changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from store.models import ApiToken, Fact, Message, Patient, PatientIdentifier
from tests.fhir_samples import attestation, bundle, patient, quantity
from tests.inprocess import bearer, run_pending

DAY = date(2026, 12, 1)
MRN_A = "urn:oid:1.2.250.1.71.4.2.7"  # site A's record numbers
MRN_B = "urn:oid:1.2.250.1.71.4.2.8"  # site B's
AUTHORITIES = f"NECKER={MRN_A},RDEBRE={MRN_B}"


@pytest.fixture()
def rt(tmp_path):
    from tests.inprocess import make_runtime

    runtime = make_runtime(tmp_path, hl7_authorities=AUTHORITIES)
    yield runtime
    runtime.dispose()


def registered(pid: str, site: str, *identifiers: tuple[str, str]) -> dict:
    resource = patient(pid, site=site)
    if identifiers:
        resource["identifier"] = [{"system": s, "value": v} for s, v in identifiers]
    return resource


def _world(client, tokens, rt):
    """Two sites, each with a child whose record number is A-222 (in its own system); site A also has
    two children sharing the value B-7 under different systems."""
    posts = [
        (tokens["lab"], registered("kid-a", "site-a", (MRN_A, "A-222"))),
        (tokens["lab-site-b"], registered("kid-b", "site-b", (MRN_B, "A-222"))),
        (tokens["lab"], registered("twin-1", "site-a", (MRN_A, "B-7"))),
        (tokens["lab"], registered("twin-2", "site-a", ("urn:other", "B-7"))),
    ]
    for headers, resource in posts:
        assert client.post("/fhir/Patient", json=resource, headers=headers).status_code == 202
    run_pending(rt)


@dataclass
class Snapshot:
    messages: int
    facts: int
    patients: dict

    @classmethod
    def of(cls, rt) -> "Snapshot":
        with rt.uow() as uow:
            s = uow.session
            return cls(s.scalar(select(func.count()).select_from(Message)),
                       s.scalar(select(func.count()).select_from(Fact)),
                       {p.id: (p.site, p.status, p.pending_seq) for p in s.scalars(select(Patient))})


# --- the paths -------------------------------------------------------------------------------------


def neutrophils(subject: dict, value: float = 0.3) -> dict:
    obs = quantity("x", "26499-4", value, "10*9/L", "2026-11-30")
    obs["subject"] = subject
    return obs


def post_transaction(client, headers, resource):
    response = client.post("/fhir", json=bundle([resource], "transaction"), headers=headers)
    return response.status_code, response


def post_batch(client, headers, resource):
    response = client.post("/fhir", json=bundle([resource], "batch"), headers=headers)
    if response.status_code != 202:
        return response.status_code, response
    return int(response.json()["entry"][0]["response"]["status"].split()[0]), response


def post_resource(client, headers, resource):
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource, headers=headers)
    return response.status_code, response


FHIR_PATHS = {"transaction": post_transaction, "batch": post_batch, "resource": post_resource}


def oru(pid3: str, value: float = 0.3, control: str = "MSG-1") -> str:
    return "\r".join([
        f"MSH|^~\\&|LIS|LAB|MYOCIT|HOSP|20261201083000||ORU^R01|{control}|P|2.5.1",
        f"PID|||{pid3}",
        "OBR|1||ORD-1|||20261130080000",
        f"OBX|1|NM|26499-4^Neutrophils^LN||{value}|10*9/L|||||F|||20261130080000",
    ]) + "\r"


def post_hl7(client, headers, message: str):
    response = client.post("/hl7v2", content=message, headers={**headers, "Content-Type": "x-application/hl7-v2+er7"})
    msa = next(line for line in response.text.split("\r") if line.startswith("MSA")).split("|")
    return msa[1], response


# --- the cases: (sender, subject) → expected answer ---------------------------------------------------

BY_ID_A = {"reference": "Patient/kid-a"}
BY_PAIR_A = {"identifier": {"system": MRN_A, "value": "A-222"}}
BY_VALUE_ONLY = {"identifier": {"value": "A-222"}}
BY_AMBIGUOUS = {"identifier": {"value": "B-7"}}

RESULT_CASES = [
    # (case, sender, subject, expected status, child that receives the result)
    ("own site, by id", "lab", BY_ID_A, 202, "kid-a"),
    ("own site, by system and value", "lab", BY_PAIR_A, 202, "kid-a"),
    ("own site, by value alone", "lab", BY_VALUE_ONLY, 202, "kid-a"),
    ("other site, by value alone finds its own child", "lab-site-b", BY_VALUE_ONLY, 202, "kid-b"),
    ("other site, by id", "lab-site-b", BY_ID_A, 403, None),
    ("other site, by system and value", "lab-site-b", BY_PAIR_A, 403, None),
    ("ambiguous identifier", "lab", BY_AMBIGUOUS, 422, None),
    ("an admin may send for any site", "admin", BY_ID_A, 202, "kid-a"),
]


@pytest.mark.parametrize("path", sorted(FHIR_PATHS))
@pytest.mark.parametrize("case,sender,subject,expected,receiver", RESULT_CASES, ids=[c[0] for c in RESULT_CASES])
def test_fhir_results_land_on_the_right_child_or_are_refused(client, tokens, rt, path, case, sender, subject,
                                                             expected, receiver):
    _world(client, tokens, rt)
    before = Snapshot.of(rt)
    status, response = FHIR_PATHS[path](client, tokens[sender], neutrophils(subject))
    assert status == expected, response.text
    after = Snapshot.of(rt)
    if expected != 202:
        assert (after.facts, after.patients) == (before.facts, before.patients)
        if path != "batch":
            assert after.messages == before.messages
        return
    run_pending(rt)
    with rt.uow() as uow:
        owner = uow.session.execute(select(Patient.id).join(Fact, Fact.patient_pk == Patient.pk)
                                    .order_by(Fact.pk.desc()).limit(1)).scalar()
    assert owner == receiver


HL7_CASES = [
    # (case, sender, PID-3, expected MSA-1, child that receives the result)
    ("own site, mapped authority", "lab", "A-222^^^NECKER^MR", "AA", "kid-a"),
    ("site B's child by its own authority, never site A's", "lab-site-b", "A-222^^^RDEBRE^MR", "AA", "kid-b"),
    ("site B, no authority: its own child only", "lab-site-b", "A-222", "AA", "kid-b"),
    ("site B naming site A's authority", "lab-site-b", "A-222^^^NECKER^MR", "AE", None),
    ("unmapped authority matches within the sender's sites", "lab", "A-222^^^UNKNOWN^MR", "AA", "kid-a"),
    ("ambiguous value", "lab", "B-7", "AE", None),
    ("repetitions naming two children", "lab", "A-222^^^NECKER^MR~B-7^^^NECKER^MR", "AE", None),
    ("repetitions naming one child", "lab", "A-222^^^NECKER^MR~kid-a", "AA", "kid-a"),
    ("the id itself", "lab", "kid-a", "AA", "kid-a"),
]


@pytest.mark.parametrize("case,sender,pid3,expected,receiver", HL7_CASES, ids=[c[0] for c in HL7_CASES])
def test_hl7_results_land_on_the_right_child_or_get_ae(client, tokens, rt, case, sender, pid3, expected,
                                                       receiver):
    _world(client, tokens, rt)
    before = Snapshot.of(rt)
    code, response = post_hl7(client, tokens[sender], oru(pid3))
    assert code == expected, response.text
    after = Snapshot.of(rt)
    if expected != "AA":
        assert "ERR|" in response.text and response.status_code != 500
        assert after == before
        return
    run_pending(rt)
    with rt.uow() as uow:
        owner = uow.session.execute(select(Patient.id).join(Fact, Fact.patient_pk == Patient.pk)
                                    .order_by(Fact.pk.desc()).limit(1)).scalar()
    assert owner == receiver


def test_the_two_sites_same_record_number_scenario_alerts_only_site_b(client, tokens, rt):
    """The issue's first finding: site B's neutrophils for its A-222 never reach site A's child."""
    _world(client, tokens, rt)
    for pid, lab in (("kid-a", "lab"), ("kid-b", "lab-site-b")):
        assert post_transaction(client, tokens[lab], neutrophils({"reference": f"Patient/{pid}"}, 4.0))[0] == 202
    run_pending(rt)
    assert post_hl7(client, tokens["lab-site-b"], oru("A-222^^^RDEBRE^MR"))[0] == "AA"
    run_pending(rt)
    site_a = client.get("/alerts", headers=tokens["coordinator"]).json()
    site_b = client.get("/alerts", headers=tokens["coordinator-site-b"]).json()
    assert all(a["patient"] == "kid-a" for a in site_a)
    assert [a["patient"] for a in site_b][-1:] == ["kid-b"]
    assert "EXC-ANC" in site_b[-1]["changed"]
    kid_a = client.get("/patients/kid-a/eligibility", headers=tokens["coordinator"]).json()
    anc = next(c for c in kid_a["criteria"] if c["id"] == "EXC-ANC")
    assert anc["verdict"] == "pass"


# --- registration: sites and identifiers ------------------------------------------------------------

REGISTRATION_CASES = [
    ("a lab registers a child of its site", "lab", registered("new-1", "site-a"), 202),
    ("without managingOrganization: its only site", "lab", {**patient("new-2"), "managingOrganization": None}, 202),
    ("a child of another site", "lab-site-b", registered("new-3", "site-a"), 403),
    ("re-posted by another site's lab", "lab-site-b", registered("kid-a", "site-b"), 403),
    ("moved by its own lab", "lab-both", registered("kid-a", "site-b"), 409),
    ("another child's identifier", "lab", registered("new-4", "site-a", (MRN_A, "A-222")), 409),
    ("another site's child's identifier", "lab-site-b", registered("new-5", "site-b", (MRN_A, "A-222")), 409),
    ("the same value in another system is another identifier", "lab", registered("new-6", "site-a", ("urn:x", "A-222")), 202),
    ("a multi-site lab must name the site", "lab-both", {**patient("new-7"), "managingOrganization": None}, 422),
    ("attestation from a lab", "lab", attestation("kid-a", "EXC-CANCER-HX", "fail", "2026-11-30"), 403),
    ("attestation from an admin", "admin", attestation("kid-a", "EXC-CANCER-HX", "fail", "2026-11-30"), 403),
    ("attestation from another site's investigator", "investigator-site-b",
     attestation("kid-a", "EXC-CANCER-HX", "fail", "2026-11-30"), 403),
    ("an investigator posts attestations only", "investigator", neutrophils(BY_ID_A), 403),
    ("attestation from the site's investigator", "investigator",
     attestation("kid-a", "EXC-CANCER-HX", "fail", "2026-11-30"), 202),
]


def _with_two_site_lab(rt, tokens):
    from store.tokens import create_token

    with rt.uow() as uow:
        tokens["lab-both"] = bearer(create_token(uow.session, "lab", ["site-a", "site-b"], "lab-both", rt.clock.now()))
        uow.commit()


def _clean(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if v is not None}


@pytest.mark.parametrize("path", sorted(FHIR_PATHS))
@pytest.mark.parametrize("case,sender,resource,expected", REGISTRATION_CASES, ids=[c[0] for c in REGISTRATION_CASES])
def test_registrations_and_attestations_follow_sites_and_roles(client, tokens, rt, path, case, sender, resource,
                                                               expected):
    _world(client, tokens, rt)
    _with_two_site_lab(rt, tokens)
    before = Snapshot.of(rt)
    with rt.uow() as uow:
        pairs_before = sorted(uow.session.execute(select(PatientIdentifier.patient_pk, PatientIdentifier.system,
                                                         PatientIdentifier.value)).all())
    status, response = FHIR_PATHS[path](client, tokens[sender], _clean(resource))
    assert status == expected, response.text
    if expected == 202:
        return
    after = Snapshot.of(rt)
    assert (after.facts, after.patients) == (before.facts, before.patients)
    if path != "batch":
        assert after.messages == before.messages
        assert response.json()["resourceType"] == "OperationOutcome"
    with rt.uow() as uow:
        assert sorted(uow.session.execute(select(PatientIdentifier.patient_pk, PatientIdentifier.system,
                                                 PatientIdentifier.value)).all()) == pairs_before


def test_an_attestations_performer_is_the_tokens_holder(client, tokens, rt):
    _world(client, tokens, rt)
    forged = attestation("kid-a", "EXC-CANCER-HX", "fail", "2026-11-30")
    forged["performer"] = [{"display": "Professor Somebody Else"}]
    assert post_resource(client, tokens["investigator"], forged)[0] == 202
    with rt.uow() as uow:
        payload = uow.session.scalars(select(Fact.payload).order_by(Fact.pk.desc())).first()
    assert payload["performer"] == "investigator"


def test_results_kept_for_an_unregistered_child_join_only_a_child_of_the_senders_sites(client, tokens, rt):
    early = neutrophils({"reference": "Patient/late-kid"})
    assert post_transaction(client, tokens["lab-site-b"], early)[0] == 202
    assert post_transaction(client, tokens["lab"], registered("late-kid", "site-a"))[0] == 202
    with rt.uow() as uow:
        linked = uow.session.scalars(select(Fact.patient_pk).where(Fact.source == f"Observation/{early['id']}")).all()
    assert linked == [None]  # kept, never filed under site A's child
    again = neutrophils({"reference": "Patient/late-kid-2"})
    assert post_transaction(client, tokens["lab"], again)[0] == 202
    assert post_transaction(client, tokens["lab"], registered("late-kid-2", "site-a"))[0] == 202
    with rt.uow() as uow:
        linked = uow.session.scalars(select(Fact.patient_pk).where(Fact.source == f"Observation/{again['id']}")).all()
    assert linked != [None]


def test_a_patient_reposted_without_its_identifier_frees_it(client, tokens, rt):
    _world(client, tokens, rt)
    assert post_resource(client, tokens["lab"], registered("kid-a", "site-a"))[0] == 202
    assert post_resource(client, tokens["lab"], registered("kid-new", "site-a", (MRN_A, "A-222")))[0] == 202


# --- tokens ---------------------------------------------------------------------------------------------


def test_a_site_bound_token_without_a_site_cannot_be_made_or_used(client, rt):
    from store.tokens import TokenError, create_token, token_hash

    with rt.uow() as uow:
        for role in ("lab", "coordinator", "investigator"):
            with pytest.raises(TokenError):
                create_token(uow.session, role, [], "nobody", rt.clock.now())
        # One left by an earlier version, before sites were required.
        uow.session.add(ApiToken(token_hash=token_hash("legacy"), role="lab", sites=[], name="legacy",
                                 created_at=datetime.now(timezone.utc)))
        uow.commit()
    response = client.post("/fhir/Patient", json=registered("x", "site-a"), headers=bearer("legacy"))
    assert response.status_code == 401
    assert client.post("/hl7v2", content=oru("x"), headers=bearer("legacy")).status_code == 401


def test_a_coordinator_of_two_sites_sees_both(client, tokens, rt):
    from store.tokens import create_token

    _world(client, tokens, rt)
    with rt.uow() as uow:
        both = bearer(create_token(uow.session, "coordinator", ["site-a", "site-b"], "both", rt.clock.now()))
        uow.commit()
    for pid in ("kid-a", "kid-b"):
        assert client.get(f"/patients/{pid}/eligibility", headers=both).status_code == 200
    assert client.get("/patients/kid-b/eligibility", headers=tokens["coordinator"]).status_code == 404


# --- revisions --------------------------------------------------------------------------------------------


def test_a_senders_version_id_never_pins_a_value(client, tokens, rt):
    _world(client, tokens, rt)
    first = neutrophils(BY_ID_A, 0.3)
    first["meta"] = {"versionId": "1000000000000000"}
    corrected = {**first, "status": "corrected", "valueQuantity": {**first["valueQuantity"], "value": 4.0},
                 "meta": {"versionId": "2"}}
    assert post_resource(client, tokens["lab"], first)[0] == 202
    assert post_resource(client, tokens["lab"], corrected)[0] == 202
    huge = {**neutrophils(BY_ID_A, 4.1), "meta": {"versionId": "1" + "0" * 30}}
    assert post_resource(client, tokens["lab"], huge)[0] == 202
    run_pending(rt)
    result = client.get("/patients/kid-a/eligibility", headers=tokens["coordinator"]).json()
    anc = next(c for c in result["criteria"] if c["id"] == "EXC-ANC")
    assert anc["verdict"] == "pass", anc
