"""Contract §5.1: what a reader is shown is what was stored, so every status a reader sees is one the
alert stream knows."""

from __future__ import annotations

from datetime import date, datetime

from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record, patient
from tests.inprocess import post_record, run_pending
from tests.web.conftest import Browser

DAY = date(2026, 12, 1)


def test_before_the_first_stored_screening_a_reader_gets_202_pending(client, tokens, rt):
    assert client.post("/fhir/Patient", json=patient("p-new"), headers=tokens["lab"]).status_code == 202
    response = client.get("/patients/p-new/eligibility", headers=tokens["coordinator"])
    assert response.status_code == 202
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "information"
    assert "pending" in body["issue"][0]["diagnostics"]
    run_pending(rt)
    stored = client.get("/patients/p-new/eligibility", headers=tokens["coordinator"])
    assert stored.status_code == 200 and stored.json()["stored"] is True and stored.json()["pending"] is False


def test_a_reader_never_sees_a_status_that_was_not_stored_and_no_change_goes_unalerted(client, tokens, rt):
    """The issue's sequence: a bundle, a read, a positive CMV PCR right after, one evaluation of both."""
    post_record(client, tokens, eligible_record("p-seq", DAY, with_cmv=False))
    read = client.get("/patients/p-seq/eligibility", headers=tokens["coordinator"])
    assert read.status_code == 202  # never "eligible": nothing was stored yet
    positive = bundle([coded("p-seq", "4996-5", DETECTED, "2026-11-30")], "batch")
    assert client.post("/fhir", json=positive, headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    shown = client.get("/patients/p-seq/eligibility", headers=tokens["coordinator"]).json()
    assert shown["status"] == "ineligible"
    # An ineligible first screening raises no alert (§5), and no reader was told anything else before it.
    assert client.get("/alerts", headers=tokens["coordinator"]).json() == []


def test_a_read_then_a_positive_result_raises_exactly_one_alert(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-one", DAY, with_cmv=False)
                + [coded("p-one", "4996-5", NOT_DETECTED, "2026-11-25")])
    run_pending(rt)
    first = client.get("/patients/p-one/eligibility", headers=tokens["coordinator"]).json()
    assert (first["status"], first["stored"], first["pending"]) == ("eligible", True, False)
    positive = bundle([coded("p-one", "4996-5", DETECTED, "2026-11-30")], "batch")
    assert client.post("/fhir", json=positive, headers=tokens["lab"]).status_code == 202
    queued = client.get("/patients/p-one/eligibility", headers=tokens["coordinator"]).json()
    assert (queued["status"], queued["pending"]) == ("eligible", True)  # the stored one, marked pending
    assert queued["screened_at"] == first["screened_at"]
    run_pending(rt)
    after = client.get("/patients/p-one/eligibility", headers=tokens["coordinator"]).json()
    assert (after["status"], after["pending"]) == ("ineligible", False)
    assert datetime.fromisoformat(after["screened_at"]).utcoffset() is not None
    alerts = client.get("/alerts", headers=tokens["coordinator"]).json()
    assert [(a["patient"], a["from_status"], a["to_status"]) for a in alerts] == [
        ("p-one", None, "eligible"), ("p-one", "eligible", "ineligible")]  # the new candidate (§5), the change


def test_a_screening_for_another_date_is_computed_and_says_it_was_not_stored(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-date", DAY))
    computed = client.get("/patients/p-date/eligibility?as_of=2026-12-01", headers=tokens["coordinator"])
    assert computed.status_code == 200
    body = computed.json()
    assert body["stored"] is False and "screened_at" not in body and "pending" not in body
    assert body["status"] == "eligible"
    assert client.get("/alerts", headers=tokens["coordinator"]).json() == []
    assert client.get("/patients/p-date/eligibility", headers=tokens["coordinator"]).status_code == 202


def test_the_pages_show_the_pending_state_the_same_way(client, tokens, rt):
    from tests.inprocess import make_tokens
    from web.app import create_app

    raw = make_tokens(rt, [("coordinator", "site-a")])
    post_record(client, tokens, eligible_record("p-page", DAY, with_cmv=False)
                + [coded("p-page", "4996-5", NOT_DETECTED, "2026-11-25")])
    browser = Browser(create_app(rt), raw["coordinator"])
    page = browser.get("/ui/patients/p-page").text
    assert "Screening pending" in page and "Status:" not in page
    run_pending(rt)
    assert "Status:" in browser.get("/ui/patients/p-page").text
    positive = bundle([coded("p-page", "4996-5", DETECTED, "2026-11-30")], "batch")
    assert client.post("/fhir", json=positive, headers=tokens["lab"]).status_code == 202
    page = browser.get("/ui/patients/p-page").text
    assert "being re-screened" in page and "Eligible" in page
    assert "being re-screened" in browser.get("/ui").text
