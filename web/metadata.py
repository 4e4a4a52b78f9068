"""``GET /metadata``: the FHIR CapabilityStatement, the first thing an integration team asks a FHIR
endpoint for. Served without a token, as FHIR servers do: it says what is accepted, never any data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ingest.fhir import SUPPORTED_TYPES
from ingest.media_types import FHIR_JSON
from web.openapi import content

router = APIRouter(tags=["service"])

SECURITY = ("Every request but GET /metadata, /healthz, /livez and /readyz carries "
            "'Authorization: Bearer <token>' (tokens from `myocit token create`, each bound to its sites). "
            "A lab token posts data only for patients of its sites; attestations come only from investigator "
            "tokens (contract §13).")


BACKPORT_IG = "http://hl7.org/fhir/uv/subscriptions-backport/ImplementationGuide/hl7.fhir.uv.subscriptions-backport"
_OPERATIONS = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-"
_READERS = "Coordinators, investigators and admins; a child's subscriber reads only its sites' (contract §16)."
OUTPUTS = [
    {"type": "ResearchStudy", "interaction": [{"code": "read"}],
     "documentation": "GET /fhir/ResearchStudy/myocit"},
    {"type": "ResearchSubject", "interaction": [{"code": "read"}, {"code": "search-type"}],
     "searchParam": [{"name": "study", "type": "reference"}, {"name": "status", "type": "token"},
                     {"name": "_lastUpdated", "type": "date", "documentation": "gt<instant> only"},
                     {"name": "_count", "type": "number"}],
     "documentation": "One per registered child of the caller's sites; extensions "
                      "urn:myocit:extension:eligibility-status and urn:myocit:extension:eligible-from. " + _READERS},
    {"type": "Basic", "interaction": [{"code": "read"}],
     "documentation": "GET /fhir/Basic/eligibility-changed: the topic urn:myocit:topic:eligibility-changed "
                      "(a SubscriptionTopic in its R4 form), filtered by site and status"},
    {"type": "Subscription", "interaction": [{"code": "create"}, {"code": "read"}, {"code": "delete"},
                                             {"code": "search-type"}],
     "supportedProfile": ["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"],
     "operation": [{"name": "status", "definition": _OPERATIONS + "status"},
                   {"name": "events", "definition": _OPERATIONS + "events"}],
     "documentation": "Topic-based subscriptions (R5 Backport IG 1.1): rest-hook, id-only or full-resource, "
                      "heartbeats; admins, or coordinators for their sites"},
]


def capability_statement(version: str, base_url: str, date: str) -> dict:
    resources = [{"type": kind, "interaction": [{"code": "create"}, {"code": "update"}],
                  "documentation": "POST /fhir/{type} (one resource) or inside a Bundle to POST /fhir; "
                                   "202 once stored"}
                 for kind in sorted(SUPPORTED_TYPES)]
    resources += OUTPUTS
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "myocit",
        "kind": "instance",
        "software": {"name": "myocit", "version": version},
        "implementation": {"description": "MYOCIT eligibility screening: FHIR R4 and HL7 v2 ORU^R01 intake",
                           "url": base_url},
        "fhirVersion": "4.0.1",
        "implementationGuide": [BACKPORT_IG],
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Results and records in (FHIR R4 profile of contract §2); screenings out at "
                             "GET /patients/{id}/eligibility (not a FHIR resource). OpenAPI at /docs.",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "OAuth", "display": "OAuth"}],
                             "text": "Bearer tokens"}],
                "description": SECURITY,
            },
            "resource": resources,
            "interaction": [{"code": "batch", "documentation": "POST /fhir with a batch Bundle: judged entry by entry"},
                            {"code": "transaction",
                             "documentation": "POST /fhir with a transaction or collection Bundle: all or nothing"}],
        }],
    }


@router.get("/metadata", summary="The FHIR R4 CapabilityStatement (no token needed)",
            responses={200: content(FHIR_JSON, "The CapabilityStatement", {"type": "object"})})
def metadata(request: Request):
    rt = request.app.state.rt
    body = capability_statement(request.app.version, rt.settings.base_url, rt.clock.today().isoformat())
    return JSONResponse(body, media_type=FHIR_JSON)
