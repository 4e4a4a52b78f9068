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
    assert {r.type for r in rest.resource} == set(SUPPORTED_TYPES) | {"ResearchStudy", "ResearchSubject", "Basic",
                                                                      "Subscription"}
    assert {i.code for i in rest.interaction} == {"batch", "transaction"}
    assert "Bearer" in rest.security.description and statement.fhirVersion == "4.0.1"


def test_the_fhir_outputs_and_their_operations_are_listed(client):
    """Contract §16: ResearchStudy, ResearchSubject, the topic and Subscription with $status and $events."""
    statement = CapabilityStatement.model_validate(client.get("/metadata").json())
    by_type = {r.type: r for r in statement.rest[0].resource}
    assert {i.code for i in by_type["ResearchSubject"].interaction} == {"read", "search-type"}
    assert {p.name for p in by_type["ResearchSubject"].searchParam} == {"study", "status", "_lastUpdated", "_count"}
    assert {i.code for i in by_type["Subscription"].interaction} == {"create", "read", "delete", "search-type"}
    assert {o.name for o in by_type["Subscription"].operation} == {"status", "events"}
    assert any("subscriptions-backport" in ig for ig in statement.implementationGuide)
