"""One evaluation per burst: results for a child already waiting for its evaluation send no more tasks,
and what a worker decoded once is reused, never mixed between databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from store.models import Patient
from store.screening import decoded_facts
from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record, patient, quantity
from tests.inprocess import evaluations_sent, make_runtime, make_tokens, post_record, run_pending

DAY = date(2026, 12, 1)


def post(client, headers, resources, kind="batch"):
    response = client.post("/fhir", json=bundle(resources, kind), headers=headers)
    assert response.status_code == 202, response.text
    return response


def post_complete(client, tokens, resources):
    """A child's record as one lab transaction, its attestations posted by the investigator first
    (kept until the Patient arrives): the lab's post is the one that asks for an evaluation."""
    response = post_record(client, tokens, resources, kind="transaction")
    assert response.status_code == 202, response.text
    return response


def haemoglobin(pid: str, n: int) -> list[dict]:
    return [quantity(pid, "718-7", 12.5, "g/dL", "2026-11-28", oid=f"hb-{pid}-{n}-{k}") for k in range(3)]


def test_a_burst_of_results_for_one_child_sends_one_evaluation(client, tokens, rt):
    post_complete(client, tokens, eligible_record("c-1", DAY))
    assert len(evaluations_sent(rt)) == 1
    for n in range(5):
        post(client, tokens["lab"], haemoglobin("c-1", n))
    assert len(evaluations_sent(rt)) == 1, "the queued evaluation covers the later results"
    run_pending(rt)
    with rt.uow() as uow:
        row = uow.session.scalar(select(Patient).where(Patient.id == "c-1"))
        assert row.evaluated_seq == row.pending_seq == 6


def test_results_after_the_evaluation_ran_send_a_new_one(client, tokens, rt):
    post_complete(client, tokens, eligible_record("c-2", DAY, with_cmv=False))
    run_pending(rt)
    post(client, tokens["lab"], [coded("c-2", "4996-5", DETECTED, "2026-11-30")])
    assert len(evaluations_sent(rt)) == 1
    run_pending(rt)
    assert client.get("/patients/c-2/eligibility", headers=tokens["coordinator"]).json()["status"] == "ineligible"


def test_a_lost_task_is_not_hidden_by_later_results(client, tokens, rt):
    """The sweeper finds work by the age of ``enqueued_at``: results arriving behind a lost task must
    not keep making it look fresh."""
    post_complete(client, tokens, eligible_record("c-3", DAY))
    with rt.uow() as uow:
        first = uow.session.scalar(select(Patient.enqueued_at).where(Patient.id == "c-3"))
    rt.celery.sent.clear()  # the broker lost it
    post(client, tokens["lab"], haemoglobin("c-3", 0))
    with rt.uow() as uow:
        assert uow.session.scalar(select(Patient.enqueued_at).where(Patient.id == "c-3")) == first
    assert evaluations_sent(rt) == []


def test_facts_decoded_once_stay_right_as_the_record_grows(client, tokens, rt):
    post_complete(client, tokens, eligible_record("c-4", DAY, with_cmv=False)
                  + [coded("c-4", "4996-5", DETECTED, "2026-11-25")])
    run_pending(rt)
    assert client.get("/patients/c-4/eligibility", headers=tokens["coordinator"]).json()["status"] == "ineligible"
    post(client, tokens["lab"], [coded("c-4", "4996-5", NOT_DETECTED, "2026-11-30")])
    run_pending(rt)
    assert client.get("/patients/c-4/eligibility", headers=tokens["coordinator"]).json()["status"] == "eligible"


def test_each_database_has_its_own_decoded_facts(tmp_path):
    """Row pks repeat across databases: a cache shared between them would read one child's facts
    as another's."""
    from fastapi.testclient import TestClient

    from tests.inprocess import bearer
    from web.app import create_app

    statuses = []
    for name, cmv in (("one", DETECTED), ("two", NOT_DETECTED)):
        (tmp_path / name).mkdir()
        rt = make_runtime(tmp_path / name)
        tokens = {k: bearer(v) for k, v in make_tokens(rt).items()}
        with TestClient(create_app(rt)) as client:
            post_complete(client, tokens, eligible_record("same", DAY, with_cmv=False)
                          + [coded("same", "4996-5", cmv, "2026-11-25")])
            run_pending(rt)
            statuses.append(client.get("/patients/same/eligibility", headers=tokens["coordinator"]).json()["status"])
        assert decoded_facts(rt.engine) is decoded_facts(rt.engine)
        rt.dispose()
    assert statuses == ["ineligible", "eligible"]


def test_the_status_view_shows_work_waiting_then_done(client, tokens, rt):
    assert client.get("/status", headers=tokens["coordinator"]).status_code == 403
    post_complete(client, tokens, eligible_record("c-5", DAY, with_cmv=False)
                  + [coded("c-5", "4996-5", DETECTED, "2026-11-25")])
    waiting = client.get("/status", headers=tokens["admin"]).json()
    assert (waiting["patients"], waiting["pending"]) == (1, 1)
    assert waiting["oldest_pending_since"] is not None and waiting["last_message_at"] is not None
    run_pending(rt)
    post(client, tokens["lab"], [coded("c-5", "4996-5", NOT_DETECTED, "2026-11-30")])
    run_pending(rt)
    done = client.get("/status", headers=tokens["admin"]).json()
    assert (done["pending"], done["oldest_pending_since"]) == (0, None)
    assert (done["alerts_unacknowledged"], done["alerts_undispatched"]) == (1, 0)


def test_results_linked_to_a_child_after_an_evaluation_are_read(client, tokens, rt):
    """A result naming an identifier nobody holds yet is stored unlinked; when the child's Patient
    later gains that identifier, the result joins the record, even though newer facts were already
    decoded for this child."""
    record = eligible_record("c-7", DAY, with_cmv=False) + [coded("c-7", "4996-5", NOT_DETECTED, "2026-11-25")]
    post_complete(client, tokens, record)
    run_pending(rt)
    by_identifier = coded("c-7", "4996-5", DETECTED, "2026-11-28")
    by_identifier["subject"] = {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "MRN-77"}}
    post(client, tokens["lab"], [by_identifier])
    post(client, tokens["lab"], haemoglobin("c-7", 0))
    run_pending(rt)
    assert client.get("/patients/c-7/eligibility", headers=tokens["coordinator"]).json()["status"] == "eligible"
    again = patient("c-7", birth=f"{DAY.year - 10}-01-15", mrn="MRN-77")
    assert client.post("/fhir/Patient", json=again, headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    assert client.get("/patients/c-7/eligibility", headers=tokens["coordinator"]).json()["status"] == "ineligible"
