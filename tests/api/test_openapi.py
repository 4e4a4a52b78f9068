"""The OpenAPI document ``/docs`` renders: OpenAPI 3.0 (the bundled Swagger UI reads 3.0 only), and
every status code and media type a route really answers is one it documents."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from tests.fhir_samples import NOT_DETECTED, bundle, coded, eligible_record
from tests.inprocess import post_record
from tests.mllp_client import oru
from web.openapi import as_openapi_30

DAY = date(2026, 12, 1)


@pytest.fixture()
def spec(client):
    return client.get("/openapi.json").json()


def operation(spec: dict, method: str, url: str) -> dict:
    path = url.split("?", 1)[0]
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in operations:
            return operations[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def documented(spec: dict, method: str, url: str, response) -> None:
    """As schemathesis checks it: the status is listed, and the media type under it."""
    answers = operation(spec, method, url)["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method} {url} answered {status}, documented {sorted(answers)}"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    listed = {name.split(";")[0].strip() for name in answers[status].get("content", {})}
    assert media in listed, f"{method} {url} {status} answered {media}, documented {sorted(listed)}"


def test_the_document_is_openapi_3_0_without_json_schema_2020_constructs(spec):
    assert spec["openapi"].startswith("3.0.")
    text = json.dumps(spec)
    assert '{"type": "null"}' not in text and '"const"' not in text
    assert "HTTPValidationError" not in text  # a malformed request is answered 400, never 422


def test_every_route_needing_a_token_documents_its_refusals(spec):
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if op.get("security"):
                assert {"401", "403", "503"} <= set(op["responses"]), f"{method} {path}"
                assert "application/fhir+json" in op["responses"]["401"]["content"]


def test_what_the_routes_answer_is_what_the_document_says(client, tokens, rt, spec):
    lab, admin = tokens["lab"], tokens["admin"]
    coordinator, investigator = tokens["coordinator"], tokens["investigator"]
    good = bundle([coded("p-doc", "4996-5", NOT_DETECTED, "2026-11-30")], "batch")
    calls = [
        ("GET", "/livez", {}, None),
        ("GET", "/readyz", {}, None),
        ("GET", "/metadata", {}, None),
        ("GET", "/metrics", admin, None),
        ("GET", "/metrics", coordinator, None),
        ("GET", "/alerts", {}, None),
        ("GET", "/alerts", {"Authorization": "Bearer unknown"}, None),
        ("GET", "/alerts?limit=0", coordinator, None),
        ("GET", "/alerts/999999", coordinator, None),
        ("POST", "/alerts/999999/ack", coordinator, None),
        ("POST", "/fhir", lab, good),
        ("POST", "/fhir", lab, b"{not json"),
        ("POST", "/fhir", tokens["lab-site-b"], bundle(eligible_record("p-doc", DAY)[:1])),
        ("POST", "/fhir/Observation", lab, coded("p-doc", "4996-5", NOT_DETECTED, "2026-11-29")),
        ("POST", "/fhir/Observation", lab, {"resourceType": "Observation"}),
        ("POST", "/hl7v2", lab, oru("p-doc").encode()),
        ("POST", "/hl7v2", lab, b"not an HL7 message"),
        ("GET", "/patients/nobody/eligibility", coordinator, None),
        ("GET", "/patients/p-doc/eligibility?as_of=1800-01-01", coordinator, None),
        ("GET", "/deliveries", coordinator, None),
        ("POST", "/deliveries/999999/retry", coordinator, None),
        ("GET", "/subscriptions", admin, None),
        ("POST", "/subscriptions", admin, {"site": "site-a", "channel": "webhook", "target": "ftp://x"}),
        ("POST", "/subscriptions/999999/deactivate", admin, None),
        ("GET", "/status", admin, None),
        ("GET", "/screening-log", coordinator, None),
        ("GET", "/screening-log?from=never", coordinator, None),
        ("GET", "/funnel", investigator, None),
        ("POST", "/patients/nobody/outcome", coordinator, {"outcome": "approached"}),
        ("POST", "/patients/nobody/confirmation", investigator, {}),
        ("GET", "/patients/nobody/confirmation", investigator, None),
        ("GET", "/cds-services", {}, None),
        ("POST", "/cds-services/myocit-eligibility", {}, {"hook": "patient-view"}),
        ("POST", "/cds-services/myocit-eligibility/feedback", {"Authorization": "Bearer a.b.c"}, {"feedback": []}),
    ]
    post_record(client, tokens, eligible_record("p-doc", DAY))  # registered, its first screening pending
    calls.append(("GET", "/patients/p-doc/eligibility", coordinator, None))
    for method, url, headers, payload in calls:
        if isinstance(payload, bytes):
            kind = "x-application/hl7-v2+er7" if url == "/hl7v2" else "application/fhir+json"
            response = client.request(method, url, content=payload, headers={**headers, "Content-Type": kind})
        else:
            response = client.request(method, url, json=payload, headers=headers)
        assert response.status_code != 500, (method, url)
        documented(spec, method, url, response)


@pytest.mark.parametrize(("given", "expected"), [
    ({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X"},
     {"type": "string", "nullable": True, "title": "X"}),
    ({"anyOf": [{"$ref": "#/a"}, {"type": "null"}]}, {"allOf": [{"$ref": "#/a"}], "nullable": True}),
    ({"type": ["integer", "null"]}, {"type": "integer", "nullable": True}),
    ({"const": "a"}, {"enum": ["a"]}),
    ({"type": "string", "examples": ["x", "y"]}, {"type": "string", "example": "x"}),
])
def test_json_schema_2020_becomes_openapi_3_0(given, expected):
    assert as_openapi_30(given) == expected
