"""The contract's HTTP routes, in process over SQLite: storage, errors, roles and sites."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.fhir_samples import (
    DETECTED,
    NOT_DETECTED,
    attestations_part,
    bundle,
    coded,
    eligible_record,
    immunization,
    lab_part,
)
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)


def post(client, headers, resources, kind="transaction"):
    return client.post("/fhir", json=bundle(resources, kind), headers=headers)


def test_a_cmv_positive_then_negative_raises_one_alert_from_ineligible_to_eligible(client, tokens, rt):
    record = eligible_record("p-1", DAY, with_cmv=False)
    positive = coded("p-1", "4996-5", DETECTED, "2026-11-25")
    assert post_record(client, tokens, record + [positive]).status_code == 202
    run_pending(rt)
    first = client.get("/patients/p-1/eligibility", headers=tokens["coordinator"]).json()
    assert first["status"] == "ineligible"
    assert post(client, tokens["lab"], [coded("p-1", "4996-5", NOT_DETECTED, "2026-11-30")]).status_code == 202
    run_pending(rt)
    assert client.get("/patients/p-1/eligibility", headers=tokens["coordinator"]).json()["status"] == "eligible"
    alerts = client.get("/alerts", headers=tokens["coordinator"]).json()
    assert [(a["patient"], a["from_status"], a["to_status"]) for a in alerts] == [("p-1", "ineligible", "eligible")]
    assert alerts[0]["changed"] == ["EXC-CMV-PCR"]


def test_the_same_bundle_posted_twice_is_stored_once_and_alerts_nothing(client, tokens, rt):
    record = eligible_record("p-2", DAY)
    bodies = [(bundle(lab_part(record)), tokens["lab"]),
              (bundle(attestations_part(record)), tokens["investigator"])]
    for body, headers in bodies:
        assert client.post("/fhir", json=body, headers=headers).status_code == 202
    run_pending(rt)
    # The first screening raises the new candidate's alert (§5); the duplicates raise nothing more.
    first = client.get("/alerts", headers=tokens["coordinator"]).json()
    assert [(a["patient"], a["from_status"], a["to_status"]) for a in first] == [("p-2", None, "eligible")]
    for body, headers in bodies:
        again = client.post("/fhir", json=body, headers=headers)
        assert again.status_code == 202
        assert again.json()["meta"]["tag"][0]["display"] == "duplicate"
    run_pending(rt)
    assert client.get("/alerts", headers=tokens["coordinator"]).json() == first


def test_results_for_a_patient_not_registered_yet_apply_when_the_patient_arrives(client, tokens, rt):
    record = eligible_record("p-3", DAY)
    patient, rest = record[0], record[1:]
    assert post_record(client, tokens, rest, kind="batch").status_code == 202
    run_pending(rt)
    assert client.get("/patients/p-3/eligibility", headers=tokens["coordinator"]).status_code == 404
    assert client.post("/fhir/Patient", json=patient, headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    assert client.get("/patients/p-3/eligibility", headers=tokens["coordinator"]).json()["status"] == "eligible"


def test_eligibility_can_be_computed_for_a_planned_date(client, tokens, rt):
    record = eligible_record("p-4", DAY) + [immunization("p-4", "03", "2026-11-20")]
    post_record(client, tokens, record)
    run_pending(rt)
    stored = client.get("/patients/p-4/eligibility", headers=tokens["coordinator"]).json()
    assert stored["status"] == "waiting" and stored["eligible_from"] == "2026-12-19"
    later = client.get("/patients/p-4/eligibility?as_of=2026-12-19", headers=tokens["investigator"]).json()
    assert later["as_of"] == "2026-12-19"
    assert next(c for c in later["criteria"] if c["id"] == "EXC-LIVE-VACCINE")["verdict"] == "pass"


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"{not json", "application/fhir+json", "JSON"),
        (b"[]", "application/fhir+json", ""),
        (json.dumps({"resourceType": "Patient", "id": "x"}).encode(), "application/fhir+json", "Bundle"),
        (json.dumps({"resourceType": "Bundle", "type": "searchset"}).encode(), "application/fhir+json", "type"),
        (json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
                          "valueQuantity": {"value": "abc", "unit": "g/dL"}}}]}).encode(),
         "application/fhir+json", "entry 0"),
        (json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
                          "valueQuantity": {"value": 9, "unit": "g/dL"}}}]}).encode(),
         "application/fhir+json", "subject"),
    ],
)
def test_bad_bundles_get_an_operation_outcome_and_nothing_is_stored(client, tokens, rt, body, content_type, fragment):
    from sqlalchemy import func, select

    from store.models import Message

    response = client.post("/fhir", content=body, headers={**tokens["lab"], "Content-Type": content_type})
    assert 400 <= response.status_code < 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert fragment in outcome["issue"][0]["diagnostics"]
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_batch_stores_its_valid_entries_and_reports_the_invalid_one(client, tokens, rt):
    good = coded("p-5", "4996-5", NOT_DETECTED, "2026-11-30")
    bad = {"resourceType": "Observation", "status": "nonsense", "code": {"text": "x"}}
    response = client.post("/fhir", json=bundle([good, {**bad, "id": "bad-1"}], "batch"), headers=tokens["lab"])
    assert response.status_code == 202
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses[0].startswith("202") and statuses[1].startswith("400")


def _dangling(pid: str) -> dict:
    """A result whose subject is a bundle-local urn naming no entry: a patient that cannot exist."""
    result = coded(pid, "4996-5", NOT_DETECTED, "2026-11-30")
    return {**result, "subject": {"reference": "urn:uuid:6f1c1a57-0000-4000-8000-000000000000"}}


def test_a_transaction_naming_a_bundle_local_patient_it_does_not_hold_is_refused_whole(client, tokens, rt):
    from sqlalchemy import func, select

    from store.models import Message

    record = eligible_record("p-urn", DAY)
    response = post(client, tokens["lab"], record + [_dangling("p-urn-result")])
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "not-found"
    assert "names no Patient of this bundle" in outcome["issue"][0]["diagnostics"]
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_batch_refuses_the_entry_naming_a_bundle_local_patient_it_does_not_hold(client, tokens, rt):
    good = coded("p-6", "4996-5", NOT_DETECTED, "2026-11-30")
    response = client.post("/fhir", json=bundle([good, _dangling("p-dangling")], "batch"), headers=tokens["lab"])
    assert response.status_code == 202
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses[0].startswith("202") and statuses[1].startswith("400")


def test_a_bundle_local_patient_held_by_the_bundle_is_resolved():
    from ingest.submissions import bundle_items

    patient = {"resourceType": "Patient", "birthDate": "2018-03-02"}
    result = {**coded("ignored", "4996-5", NOT_DETECTED, "2026-11-30"),
              "subject": {"reference": "urn:uuid:0d0e6a6e-0000-4000-8000-000000000001"}}
    body = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0d0e6a6e-0000-4000-8000-000000000001", "resource": patient},
        {"fullUrl": "urn:uuid:0d0e6a6e-0000-4000-8000-000000000002", "resource": result}]}
    parsed = bundle_items(json.dumps(body).encode(), DAY)
    assert [e.problem for e in parsed.entries] == [None, None]
    assert parsed.items[1].subjects[0].value == parsed.items[0].registration.id


def test_a_lone_resource_naming_a_bundle_local_patient_is_refused(client, tokens, rt):
    response = client.post("/fhir/Observation", json=_dangling("p-alone"),
                           headers={**tokens["lab"], "Content-Type": "application/fhir+json"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-found"


def test_an_oversized_body_is_refused_with_413(client, tokens, rt):
    rt.settings.max_body_bytes = 1000
    response = client.post("/fhir", content=b" " * 2000, headers={**tokens["lab"], "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_hl7_oru_results_are_acknowledged_and_broken_messages_get_ae_or_ar(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-6", DAY, with_cmv=False))
    run_pending(rt)
    oru = "\r".join([
        "MSH|^~\\&|LAB|HOSP|MYOCIT|APHP|20261130101500||ORU^R01^ORU_R01|MSG0001|P|2.5.1",
        "PID|1||p-6^^^HOSP^MR",
        "OBR|1||FILL-1|4996-5^CMV DNA^LN|||20261130090000",
        "OBX|1|CWE|4996-5^CMV DNA Bld Ql NAA^LN||260373001^Detected^SCT||||||F|||20261130090000",
    ])
    response = client.post("/hl7v2", content=oru, headers={**tokens["lab"], "Content-Type": "x-application/hl7-v2+er7"})
    assert response.status_code == 202 and "MSA|AA|MSG0001" in response.text
    run_pending(rt)
    assert client.get("/patients/p-6/eligibility", headers=tokens["coordinator"]).json()["status"] == "ineligible"
    adt = oru.replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    refused = client.post("/hl7v2", content=adt, headers=tokens["lab"])
    assert refused.status_code == 400 and "MSA|AR" in refused.text
    broken = client.post("/hl7v2", content="PID|nonsense", headers=tokens["lab"])
    assert broken.status_code == 400 and ("MSA|AR" in broken.text or "MSA|AE" in broken.text)


ROUTES = [
    ("post", "/fhir"), ("post", "/fhir/Observation"), ("post", "/hl7v2"),
    ("get", "/patients/p-7/eligibility"), ("get", "/alerts"), ("post", "/alerts/1/ack"),
]
ALLOWED = {
    "lab": {"/fhir", "/fhir/Observation", "/hl7v2"},
    "coordinator": {"/patients/p-7/eligibility", "/alerts", "/alerts/1/ack"},
    "investigator": {"/fhir", "/fhir/Observation", "/patients/p-7/eligibility"},  # attestations (§13)
}


@pytest.mark.parametrize("role", ["lab", "coordinator", "investigator"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_each_role_reaches_only_its_routes(client, tokens, role, method, path):
    response = getattr(client, method)(path, headers=tokens[role], **({"json": {}} if method == "post" else {}))
    if path in ALLOWED[role]:
        assert response.status_code != 403
    else:
        assert response.status_code == 403


def test_a_coordinator_of_another_site_gets_404_for_the_patient_and_its_alerts(client, tokens, rt):
    post_record(client, tokens,
                eligible_record("p-8", DAY, with_cmv=False) + [coded("p-8", "4996-5", DETECTED, "2026-11-25")])
    run_pending(rt)
    post(client, tokens["lab"], [coded("p-8", "4996-5", NOT_DETECTED, "2026-11-30")])
    run_pending(rt)
    assert client.get("/patients/p-8/eligibility", headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.get("/alerts", headers=tokens["coordinator-site-b"]).json() == []
    alert = client.get("/alerts", headers=tokens["coordinator"]).json()[0]
    assert client.post(f"/alerts/{alert['id']}/ack", headers=tokens["coordinator-site-b"]).status_code == 404
    acked = client.post(f"/alerts/{alert['id']}/ack", headers=tokens["coordinator"]).json()
    assert acked["acknowledged_at"] is not None


def test_requests_without_a_valid_token_get_401(client):
    assert client.get("/alerts").status_code == 401
    assert client.get("/alerts", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/fhir", "/fhir/{resource_type}", "/hl7v2", "/alerts", "/healthz"} <= set(spec["paths"])


@pytest.mark.parametrize("content_type", ["text/xml", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "x-application/hl7-v2+er7"])
def test_a_fhir_body_of_another_media_type_is_refused_with_415(client, tokens, rt, content_type):
    from sqlalchemy import func, select

    from store.models import Message

    body = json.dumps(bundle([coded("p-ct", "4996-5", NOT_DETECTED, "2026-11-30")]))
    for path in ("/fhir", "/fhir/Observation"):
        sent = body if path == "/fhir" else json.dumps(coded("p-ct", "4996-5", NOT_DETECTED, "2026-11-30"))
        response = client.post(path, content=sent, headers={**tokens["lab"], "Content-Type": content_type})
        assert response.status_code == 415, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize("content_type", ["application/fhir+json", "application/fhir+json; charset=utf-8",
                                          "application/json", "Application/JSON;charset=UTF-8", None])
def test_a_fhir_body_as_fhir_json_json_or_without_content_type_is_read(client, tokens, content_type):
    headers = tokens["lab"] | ({"Content-Type": content_type} if content_type else {})
    body = json.dumps(bundle([coded("p-ct", "4996-5", NOT_DETECTED, "2026-11-30")])).encode()
    response = client.post("/fhir", content=body, headers=headers)
    assert response.status_code == 202, response.text


def test_an_hl7_body_of_another_media_type_gets_ar_with_415(client, tokens, rt):
    from sqlalchemy import func, select

    from store.models import Message

    oru = "MSH|^~\\&|LAB|HOSP|MYOCIT|APHP|20261130101500||ORU^R01^ORU_R01|MSG0001|P|2.5.1\rPID|1||p-6^^^HOSP^MR\r"
    response = client.post("/hl7v2", content=oru, headers={**tokens["lab"], "Content-Type": "application/json"})
    assert response.status_code == 415 and "MSA|AR|" in response.text and "Content-Type" in response.text
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 0


def test_an_unknown_bearer_token_is_audited_without_its_value_and_slowed_per_address(client, tokens, rt,
                                                                                     monkeypatch):
    from sqlalchemy import select

    from store.models import AuditEntry
    from web import auth

    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(auth.asyncio, "sleep", no_wait)
    for guess in ("myo_guess-one", "myo_guess-two", "myo_guess-three"):
        assert client.get("/alerts", headers={"Authorization": f"Bearer {guess}"}).status_code == 401
    assert client.get("/alerts", headers=tokens["coordinator"]).status_code == 200
    assert waits == [0.5, 1.0, 2.0]
    with rt.uow() as uow:
        entries = uow.session.execute(select(AuditEntry.actor, AuditEntry.target)
                                      .where(AuditEntry.action == "unknown-token")).all()
    assert len(entries) == 3 and all(actor == "anonymous" for actor, _ in entries)
    assert all("myo_" not in (target or "") and "guess" not in (target or "") for _, target in entries)
