"""GET /metadata: a valid FHIR R4 CapabilityStatement, served without a token."""

from __future__ import annotations

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from ingest.fhir import SUPPORTED_TYPES


def test_the_capability_statement_is_valid_fhir_and_needs_no_token(client):
    response = client.get("/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(response.json())
    rest = statement.rest[0]
    assert {r.type for r in rest.resource} == set(SUPPORTED_TYPES)
    assert {i.code for i in rest.interaction} == {"batch", "transaction"}
    assert "Bearer" in rest.security.description and statement.fhirVersion == "4.0.1"
