"""The CDS Hooks service in process (contract §15): discovery; the card for a child of every status;
no card for a child not found, of another site, ineligible, whose consent was refused; card text free
of names, birth dates and record numbers; the prefetch and no-prefetch paths (a real HTTP EHR started
here: its JWKS and its FHIR server); and feedback recorded, audited and shown. The JWT rules one by one
are in test_cds_hooks_jwt.py."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from sqlalchemy import select

from domain.cds_cards import OVERRIDE_REASONS
from service.commands import AddEhr
from service.ehrs import add_ehr
from store.models import AuditEntry, CdsFeedback, Patient
from testkit.ehr import Ehr, patient_view
from tests.api.conftest import run_pending
from tests.inprocess import copied_runtime, make_runtime
from tests.web.conftest import Browser
from tests.fhir_samples import DETECTED, coded, consent, eligible_record, immunization, patient
from tests.inprocess import post_record

DAY = date(2026, 12, 1)
URL = "http://testserver/cds-services/myocit-eligibility"
MRN = "urn:oid:1.2.250.1.71.4.2.7"
NAMES = {"cds-ok": "Moreau", "cds-wait": "Petit", "cds-todo": "Garnier", "cds-no": "Fontaine",
         "cds-refused": "Lambert", "cds-b": "Chevalier"}
BIRTHS = {pid: f"2016-0{i + 1}-1{i}" for i, pid in enumerate(NAMES)}
MRNS = {pid: f"MRN-77{i}019{i}" for i, pid in enumerate(NAMES)}


def _without(resources, code):
    return [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") != code]


def _records() -> dict[str, tuple[list[dict], str]]:
    refused = [r for r in eligible_record("cds-refused", DAY) if r["resourceType"] != "Consent"]
    return {
        "cds-ok": (eligible_record("cds-ok", DAY), "site-a"),
        "cds-wait": (eligible_record("cds-wait", DAY) + [immunization("cds-wait", "03", "2026-11-20")], "site-a"),
        "cds-todo": (_without(eligible_record("cds-todo", DAY, with_cmv=False), "EXC-SEVERE-JDM"), "site-a"),
        "cds-no": (eligible_record("cds-no", DAY, with_cmv=False) + [coded("cds-no", "4996-5", DETECTED, "2026-11-25")],
                   "site-a"),
        "cds-refused": (refused + [consent("cds-refused", "2026-12-01", "rejected")], "site-a"),
        "cds-b": (eligible_record("cds-b", DAY, site="site-b"), "site-b"),
    }


def ehr_patient(pid: str, *, site: str = "site-a", with_id: bool = False) -> dict:
    """The Patient as the EHR holds it: its own id, the hospital's record number, a name, a birth date."""
    named = patient("ehr-internal-9" if not with_id else pid, birth=BIRTHS[pid], site=site, mrn=MRNS[pid])
    return named | {"name": [{"family": NAMES[pid], "given": ["Inès"]}]}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The children of every status, screened once for the module: each test starts from a copy."""
    from fastapi.testclient import TestClient

    from tests.inprocess import bearer, make_tokens
    from web.app import create_app

    home = tmp_path_factory.mktemp("cds-world")
    runtime = make_runtime(home, ui_secret="test-secret")
    tokens = {key: bearer(token) for key, token in make_tokens(runtime).items()}
    with TestClient(create_app(runtime)) as client:
        for pid, (record, where) in _records().items():
            named = [ehr_patient(pid, site=where, with_id=True) if r["resourceType"] == "Patient" else r
                     for r in record]
            assert post_record(client, tokens, named, site=where).status_code == 202
        run_pending(runtime)
    runtime.dispose()
    return home


@pytest.fixture()
def rt(tmp_path, template):
    runtime = copied_runtime(template, tmp_path, ui_secret="test-secret")
    yield runtime
    runtime.dispose()


@pytest.fixture()
def world(client, tokens):
    statuses = {}
    for pid, (_, where) in _records().items():
        who = "coordinator" if where == "site-a" else "coordinator-site-b"
        statuses[pid] = client.get(f"/patients/{pid}/eligibility", headers=tokens[who]).json()["status"]
    assert statuses == {"cds-ok": "eligible", "cds-wait": "waiting", "cds-todo": "incomplete", "cds-no": "ineligible",
                        "cds-refused": "ineligible", "cds-b": "eligible"}
    return statuses


@pytest.fixture()
def ehr(rt):
    running = Ehr()
    add_ehr(AddEhr(running.issuer, running.jwks_url, running.fhir_server, ("site-a",), "test"), rt.uow(),
            clock=rt.clock)
    yield running
    running.close()


def call(client, ehr, body, *, url=URL):
    return client.post(url.removeprefix("http://testserver"), json=body,
                       headers={"Authorization": f"Bearer {ehr.token(url)}"})


def cards_for(client, ehr, pid, **patient_options) -> list[dict]:
    answer = call(client, ehr, patient_view("ehr-internal-9", ehr_patient(pid, **patient_options)))
    assert answer.status_code == 200, answer.text
    return answer.json()["cards"]


def test_discovery_names_the_patient_view_service_and_its_prefetch(client):
    answer = client.get("/cds-services")
    assert answer.status_code == 200
    assert answer.json()["services"] == [{
        "hook": "patient-view", "id": "myocit-eligibility", "title": "MYOCIT trial screening",
        "description": answer.json()["services"][0]["description"],
        "prefetch": {"patient": "Patient/{{context.patientId}}"}}]


def test_a_card_for_each_status_that_may_lead_to_the_trial(client, world, ehr, rt):
    expected = {"cds-ok": ("MYOCIT: possibly eligible", "warning"),
                "cds-wait": ("MYOCIT: eligible from 2026-12-19", "warning"),
                "cds-todo": (None, "info")}
    for pid, (summary, indicator) in expected.items():
        [card] = cards_for(client, ehr, pid)
        assert card["indicator"] == indicator
        if summary:
            assert card["summary"] == summary
        else:
            assert re.fullmatch(r"MYOCIT: may be eligible, \d+ items? to check", card["summary"]), card["summary"]
        assert len(card["summary"]) <= 140
        assert card["source"] == {"label": "MYOCIT trial screening"}
        assert card["links"] == [{"label": "Open the MYOCIT screening in myocit",
                                  "url": f"http://127.0.0.1:8000/ui/patients/{pid}", "type": "absolute",
                                  "autoLaunchable": False}]
        assert [r["display"] for r in card["overrideReasons"]] == [d for _, d in OVERRIDE_REASONS]
        assert re.fullmatch(r"[0-9a-f-]{36}", card["uuid"])
        assert card["detail"] and all(v not in ("", None, [], {}) for v in card.values())


def test_the_waiting_card_says_what_blocks_and_until_when(client, world, ehr):
    [card] = cards_for(client, ehr, "cds-wait")
    assert "until 2026-12-19" in card["detail"]


def test_the_incomplete_card_counts_the_items_to_check(client, world, ehr, tokens):
    stored = client.get("/patients/cds-todo/eligibility", headers=tokens["coordinator"]).json()
    to_check = [c for c in stored["criteria"] if c["verdict"] in ("unknown", "review")]
    [card] = cards_for(client, ehr, "cds-todo")
    n = len(to_check)
    assert card["summary"] == f"MYOCIT: may be eligible, {n} item{'' if n == 1 else 's'} to check"
    assert "not known yet" in card["detail"]


@pytest.mark.parametrize("pid", ["cds-no", "cds-refused"])
def test_no_card_for_an_ineligible_child_or_refused_consent(client, world, ehr, pid):
    assert cards_for(client, ehr, pid) == []


def test_no_card_for_a_child_of_another_site_even_by_its_record_number(client, world, ehr):
    # §13: a (system, value) pair finds the child across sites; the EHR of site-a sees no card for it.
    assert cards_for(client, ehr, "cds-b", site="site-b") == []
    assert cards_for(client, ehr, "cds-b", site="site-b", with_id=True) == []


def test_no_card_for_a_child_not_known(client, world, ehr):
    unknown = {"resourceType": "Patient", "id": "x1", "identifier": [{"system": MRN, "value": "MRN-NOBODY"}]}
    answer = call(client, ehr, patient_view("x1", unknown))
    assert answer.json() == {"cards": []}


def test_a_value_without_a_system_finds_a_child_of_the_ehrs_sites_only(client, world, ehr):
    bare = {"resourceType": "Patient", "id": "ehr-7", "identifier": [{"value": MRNS["cds-ok"]}]}
    assert len(call(client, ehr, patient_view("ehr-7", bare)).json()["cards"]) == 1
    other = {"resourceType": "Patient", "id": "ehr-8", "identifier": [{"value": MRNS["cds-b"]}]}
    assert call(client, ehr, patient_view("ehr-8", other)).json() == {"cards": []}


def test_names_that_find_two_children_find_none(client, world, ehr):
    two = {"resourceType": "Patient", "id": "cds-wait", "identifier": [{"system": MRN, "value": MRNS["cds-ok"]}]}
    assert call(client, ehr, patient_view("cds-wait", two)).json() == {"cards": []}


def test_the_card_text_names_no_name_birth_date_or_record_number(client, world, ehr):
    for pid in ("cds-ok", "cds-wait", "cds-todo"):
        [card] = cards_for(client, ehr, pid)
        text = repr(card)
        for secret in (NAMES[pid], BIRTHS[pid], MRNS[pid], "Inès"):
            assert secret not in text, (pid, secret)


def test_without_a_prefetch_the_patient_is_read_from_the_registered_fhir_server(client, world, ehr):
    ehr.patients["ehr-42"] = ehr_patient("cds-ok") | {"id": "ehr-42"}
    body = patient_view("ehr-42", fhirServer=ehr.fhir_server,
                        fhirAuthorization={"access_token": "ehr-access", "token_type": "Bearer",
                                           "expires_in": 300, "scope": "patient/Patient.read", "subject": "myocit"})
    answer = call(client, ehr, body)
    assert answer.status_code == 200 and len(answer.json()["cards"]) == 1
    [read] = [s for s in ehr.seen if s["path"].startswith("/fhir/")]
    assert read == {"path": "/fhir/Patient/ehr-42", "authorization": "Bearer ehr-access"}


def test_no_prefetch_and_another_fhir_server_named_no_call_no_card(client, world, ehr):
    other = Ehr()
    try:
        other.patients["ehr-42"] = ehr_patient("cds-ok") | {"id": "ehr-42"}
        answer = call(client, ehr, patient_view("ehr-42", fhirServer=other.fhir_server))
        assert answer.json() == {"cards": []}
        assert other.seen == []
    finally:
        other.close()


def test_no_prefetch_and_no_fhir_server_no_card(client, world, ehr):
    assert call(client, ehr, patient_view("cds-ok")).json() == {"cards": []}


@pytest.mark.parametrize("trouble", ["failing", "missing"])
def test_a_failing_fhir_server_gives_no_card_never_an_error(client, world, ehr, trouble):
    ehr.failing = trouble == "failing"
    answer = call(client, ehr, patient_view("ehr-43", fhirServer=ehr.fhir_server))
    assert answer.status_code == 200 and answer.json() == {"cards": []}


def test_a_slow_fhir_server_is_given_up_on_after_3_seconds(client, world, ehr):
    ehr.patients["ehr-44"] = ehr_patient("cds-ok") | {"id": "ehr-44"}
    ehr.delay = 4.0
    started = time.monotonic()
    answer = call(client, ehr, patient_view("ehr-44", fhirServer=ehr.fhir_server))
    assert answer.status_code == 200 and answer.json() == {"cards": []}
    assert time.monotonic() - started < 3.9


def test_every_call_is_audited_with_the_ehr_and_the_screening(client, world, ehr, rt):
    cards_for(client, ehr, "cds-ok")
    cards_for(client, ehr, "cds-no")
    with rt.uow() as uow:
        rows = uow.session.execute(select(AuditEntry.actor, AuditEntry.target)
                                   .where(AuditEntry.action == "cds-patient-view").order_by(AuditEntry.pk)).all()
    assert [r.actor for r in rows] == [f"ehr 1 ({ehr.issuer})"] * 2
    assert re.fullmatch(r"Screening/\d+ cards 1", rows[0].target)
    assert re.fullmatch(r"Screening/\d+ no card", rows[1].target)


def feedback(client, ehr, entries):
    url = URL + "/feedback"
    return client.post("/cds-services/myocit-eligibility/feedback", json={"feedback": entries},
                       headers={"Authorization": f"Bearer {ehr.token(url)}"})


def test_feedback_is_recorded_audited_shown_on_the_patient_page_and_counted_on_the_log(client, world, ehr, rt,
                                                                                       tokens):
    [first] = cards_for(client, ehr, "cds-ok")
    [second] = cards_for(client, ehr, "cds-ok")
    [third] = cards_for(client, ehr, "cds-wait")
    answer = feedback(client, ehr, [
        {"card": first["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-12-01T09:00:00Z"},
        {"card": second["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-01T09:05:00Z",
         "overrideReason": {"reason": first["overrideReasons"][0], "userComment": "Mme Moreau says no"}},
        {"card": third["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-01T09:06:00Z",
         "overrideReason": {"reason": first["overrideReasons"][2]}},
        {"card": "00000000-0000-0000-0000-000000000000", "outcome": "accepted",
         "outcomeTimestamp": "2026-12-01T09:07:00Z"},
    ])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": 3}
    with rt.uow() as uow:
        kept = [(f.outcome, f.reason) for f in uow.session.scalars(select(CdsFeedback).order_by(CdsFeedback.pk))]
        audited = uow.session.scalars(select(AuditEntry.screening_id).where(AuditEntry.action.like("cds-card-%"))
                                      .order_by(AuditEntry.pk)).all()
        screening_ids = dict(uow.session.execute(select(Patient.id, Patient.screening_id)).all())
    assert kept == [("accepted", None), ("overridden", "family-not-interested"), ("overridden", "already-discussed")]
    # The audit names the child by its screening id only (contract §17), never by its Patient id.
    assert audited == [screening_ids["cds-ok"], screening_ids["cds-ok"], screening_ids["cds-wait"]]
    browser = Browser(client.app, tokens["coordinator"]["Authorization"].split()[1])
    page = browser.get("/ui/patients/cds-ok").text
    assert "Card in the EHR accepted" in page and "Card in the EHR dismissed: Family not interested" in page
    assert "Mme Moreau" not in page
    log = browser.get("/ui/screening-log").text
    assert "Cards in the EHR: 3 shown, 1 accepted, 2 dismissed" in log
    assert "Family not interested: 1" in log and "Already discussed with the research team: 1" in log


def test_feedback_on_a_card_is_refused_without_a_valid_jwt(client, world, ehr):
    answer = client.post("/cds-services/myocit-eligibility/feedback", json={"feedback": []},
                         headers={"Authorization": f"Bearer {ehr.token(URL, exp=int(time.time()) - 3600)}"})
    assert answer.status_code == 401


@pytest.mark.parametrize("body", [{"feedback": "x"}, {"feedback": [{"card": "u", "outcome": "maybe"}]},
                                  {"feedback": [{"card": "u", "outcome": "accepted", "outcomeTimestamp": "soon"}]}])
def test_malformed_feedback_is_a_400(client, ehr, body):
    url = URL + "/feedback"
    answer = client.post("/cds-services/myocit-eligibility/feedback", json=body,
                         headers={"Authorization": f"Bearer {ehr.token(url)}"})
    assert answer.status_code == 400


@pytest.mark.parametrize("body", [{}, {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "a"}},
                                  {"hook": "patient-view", "hookInstance": "x", "context": {}}, None])
def test_a_request_that_is_not_a_patient_view_is_a_400(client, ehr, body):
    answer = client.post("/cds-services/myocit-eligibility", content=b"nonsense" if body is None else None,
                         json=body if body is not None else None,
                         headers={"Authorization": f"Bearer {ehr.token(URL)}"})
    assert answer.status_code == 400
