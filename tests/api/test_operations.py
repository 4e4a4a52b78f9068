"""Contract §12 for operators: liveness apart from readiness, Prometheus figures without patient
identifiers, a request id from the HTTP request into the tasks it sends, and /docs offline."""

from __future__ import annotations

import logging
from datetime import date

from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record
from tests.inprocess import evaluations_sent, post_record, run_pending

DAY = date(2026, 12, 1)


def test_liveness_needs_nothing_readiness_needs_the_database_and_broker(client):
    assert client.get("/livez").status_code == 200
    ready = client.get("/readyz")
    # In process the broker is a stand-in that cannot connect: not ready, and it says which part.
    assert ready.status_code == 503 and ready.json()["database"] == "ok" and ready.json()["broker"].startswith("down")
    assert client.get("/healthz").json() == ready.json()


def test_metrics_are_for_admins_and_name_no_patient(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-metrics-1", DAY, with_cmv=False)
                + [coded("p-metrics-1", "4996-5", DETECTED, "2026-11-25")])
    run_pending(rt)
    later = bundle([coded("p-metrics-1", "4996-5", NOT_DETECTED, "2026-11-30")], "batch")
    assert client.post("/fhir", json=later, headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    assert client.get("/metrics", headers=tokens["coordinator"]).status_code == 403
    text = client.get("/metrics", headers=tokens["admin"]).text
    for name in ("myocit_messages_total", "myocit_facts_stored_total", "myocit_evaluations_total",
                 "myocit_evaluation_seconds_bucket", "myocit_status_changes_total", "myocit_alerts_total",
                 "myocit_pending_evaluations", "myocit_oldest_pending_seconds", "myocit_rescreens_due"):
        assert name in text, name
    assert 'myocit_messages_total{channel="fhir",outcome="stored"}' in text
    assert 'myocit_status_changes_total{from="ineligible",to="eligible"}' in text
    assert "p-metrics-1" not in text


def test_every_known_label_set_is_scraped_before_its_first_event(client, tokens):
    """Prometheus advises exporting known label sets at 0: a series appearing late breaks rates."""
    text = client.get("/metrics", headers=tokens["admin"]).text
    for line in ('myocit_messages_total{channel="mllp",outcome="refused"}',
                 'myocit_messages_total{channel="hl7v2",outcome="duplicate"}',
                 'myocit_deliveries_total{channel="webhook",outcome="failed"}',
                 'myocit_deliveries_total{channel="email",outcome="sent"}',
                 'myocit_status_changes_total{from="waiting",to="incomplete"}'):
        assert line in text, line


def test_a_request_id_follows_a_message_into_its_evaluation(client, tokens, rt, caplog):
    caplog.set_level(logging.INFO)
    response = client.post("/fhir", json=bundle(eligible_record("p-trace", DAY)[:1], "batch"),
                           headers={**tokens["lab"], "X-Request-ID": "trace-4711"})
    assert response.headers["x-request-id"] == "trace-4711"
    sent = evaluations_sent(rt)
    assert sent, "an evaluation was sent"
    assert rt.celery.headers[-1] == {"request_id": "trace-4711"}
    stored = [r for r in caplog.records if r.name == "myocit.intake"]
    assert stored and "p-trace" not in stored[-1].getMessage()
    # A request id that could carry data is replaced.
    odd = client.get("/livez", headers={"X-Request-ID": "Secretname, born 2016-01-15"})
    assert odd.headers["x-request-id"] != "Secretname, born 2016-01-15"


def test_the_api_docs_are_served_from_the_package(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
