"""healthchain's CDS Hooks client (tests/cds) sends what an EHR sends for contract §15: a CDS Hooks
2.0 patient-view request with its prefetched Patient and a bearer token, and reports the answer."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.cds_client import send_patient_view

PATIENT = {
    "resourceType": "Patient",
    "id": "pat-42",
    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "TEST-0042"}],
}
CARDS = {
    "cards": [
        {
            "summary": "MYOCIT: possibly eligible",
            "indicator": "warning",
            "source": {"label": "MYOCIT trial screening"},
        }
    ]
}


class RecordingService:
    """A CDS service on 127.0.0.1 that keeps every request it gets and answers a fixed status and body."""

    def __init__(self, status: int, answer: dict):
        self.received: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.received.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                encoded = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cds-services/myocit-eligibility"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def service():
    running = RecordingService(200, CARDS)
    yield running
    running.close()


@pytest.fixture()
def refusing_service():
    running = RecordingService(401, {"error": "unknown issuer"})
    yield running
    running.close()


def test_the_client_posts_a_cds_hooks_patient_view_request(service):
    answer = send_patient_view(
        service.url, "pat-42", patient=PATIENT, authorization="Bearer header.payload.sig"
    )

    [received] = service.received
    assert received["path"] == "/cds-services/myocit-eligibility"
    assert received["headers"]["Authorization"] == "Bearer header.payload.sig"
    assert received["headers"]["Content-Type"].startswith("application/json")
    request = received["json"]
    assert request["hook"] == "patient-view"
    assert uuid.UUID(request["hookInstance"])
    assert request["context"]["patientId"] == "pat-42"
    assert request["context"]["userId"].startswith("Practitioner/")
    assert request["prefetch"] == {"patient": PATIENT}
    assert answer.request == request
    assert answer.status == 200
    assert answer.body == CARDS
    assert answer.cds_response_errors is None


def test_without_a_prefetch_the_request_names_the_fhir_server(service):
    send_patient_view(service.url, "pat-42", fhir_server="http://127.0.0.1:9/fhir")

    [received] = service.received
    assert "prefetch" not in received["json"]
    assert received["json"]["fhirServer"] == "http://127.0.0.1:9/fhir"
    assert "Authorization" not in received["headers"]


def test_a_refusal_comes_back_as_its_status(refusing_service):
    answer = send_patient_view(refusing_service.url, "pat-42", patient=PATIENT, authorization="Bearer forged")

    assert answer.status == 401
    assert answer.body == {"error": "unknown issuer"}
    assert answer.cds_response_errors is None


def test_an_answer_that_is_not_a_cds_hooks_response_is_reported():
    running = RecordingService(200, {"cards": [{"summary": "no indicator nor source"}]})
    try:
        answer = send_patient_view(running.url, "pat-42", patient=PATIENT)
    finally:
        running.close()

    assert answer.status == 200
    assert answer.cds_response_errors
