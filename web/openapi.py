"""The OpenAPI document ``/docs`` renders: OpenAPI 3.0 (the bundled Swagger UI reads 3.0 only), and
the status codes and media types the routes really answer.

FastAPI writes 3.1 and lists 422 for any route with parameters, while this service answers a
malformed request with 400 and every error as a FHIR OperationOutcome. Routes name their own
answers with ``responses=answers(...)``; what every route of a kind answers (a token refused, the
database down) is added here once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from web.outcomes import FHIR_JSON

OPENAPI_VERSION = "3.0.3"
OUTCOME_REF = "#/components/schemas/OperationOutcome"
VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"
OPERATION_OUTCOME = {
    "type": "object",
    "description": "FHIR R4 OperationOutcome: what was refused and where, never the patient's data",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "items": {
            "type": "object",
            "properties": {"severity": {"type": "string"}, "code": {"type": "string"},
                           "diagnostics": {"type": "string"},
                           "expression": {"type": "array", "items": {"type": "string"}}},
        }},
    },
}
WHY = {
    202: "Accepted (an OperationOutcome of severity information)",
    400: "Malformed request or unreadable input",
    401: "No bearer token, or an unknown or revoked one",
    403: "The token's role or sites do not allow it",
    404: "Not found, or not of the caller's sites",
    409: "Conflicts with what is stored",
    413: "The body is larger than MYOCIT_MAX_BODY_BYTES",
    415: "The body's Content-Type is not one this route reads",
    422: "Readable, but cannot be applied (a patient not identified, a site missing)",
    503: "The database is unavailable: nothing was stored, retry later",
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OperationOutcome answers, for a route's ``responses=``."""
    return {code: {"description": WHY[code], "content": {FHIR_JSON: {"schema": {"$ref": OUTCOME_REF}}}}
            for code in codes}


def body(*media_types: str, schema: dict | None = None) -> dict:
    """``openapi_extra`` for a route that reads its raw body itself (FHIR JSON, HL7 v2)."""
    content = {media: {"schema": schema or {"type": "object"}} for media in media_types}
    return {"requestBody": {"required": True, "content": content}}


def content(media_type: str, description: str, schema: dict | None = None) -> dict:
    return {"description": description, "content": {media_type: {"schema": schema or {"type": "object"}}}}


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, openapi_version=OPENAPI_VERSION,
                                   description=app.description, routes=app.routes)
            app.openapi_schema = published(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def published(document: dict) -> dict:
    """``document`` (FastAPI's) as this service answers, in OpenAPI 3.0."""
    document = as_openapi_30(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["OperationOutcome"] = OPERATION_OUTCOME
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if _refers(responses.get("422"), VALIDATION_ERROR):
                # The request's own validation is answered 400 (web/app.py), not FastAPI's 422.
                del responses["422"]
                responses.setdefault("400", _keyed(answers(400))["400"])
            if operation.get("security"):
                # A token is looked up in the database: refused, forbidden, or the database down,
                # each an OperationOutcome beside what the route itself answers with that code.
                for code, answer in _keyed(answers(401, 403, 503)).items():
                    declared = responses.setdefault(code, answer)
                    declared.setdefault("content", {}).setdefault(FHIR_JSON, answer["content"][FHIR_JSON])
            for answer in responses.values():
                _drop_empty_alternatives(answer)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _refers(answer: dict | None, schema: str) -> bool:
    return answer is not None and any(media.get("schema", {}).get("$ref") == schema
                                      for media in answer.get("content", {}).values())


def _keyed(found: dict) -> dict[str, dict]:
    return {str(code): answer for code, answer in found.items()}


def _drop_empty_alternatives(answer: dict) -> None:
    """FastAPI adds the route's default media type, schema-less, beside the ones a route names."""
    media = answer.get("content")
    if media and len(media) > 1:
        for name in [name for name, spec in media.items() if not spec.get("schema")]:
            del media[name]


def as_openapi_30(node: Any) -> Any:
    """JSON Schema 2020-12 (OpenAPI 3.1) as OpenAPI 3.0's dialect: a ``null`` alternative becomes
    ``nullable``, ``const`` an ``enum`` of one, ``examples`` its first ``example``."""
    if isinstance(node, list):
        return [as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_openapi_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del node[key]
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif len(rest) == 1:
                node["allOf"] = rest
            elif rest:
                node[key] = rest
    if isinstance(node.get("type"), list):
        kinds = [kind for kind in node["type"] if kind != "null"]
        if len(kinds) < len(node["type"]):
            node["nullable"] = True
        node["type"] = kinds[0] if len(kinds) == 1 else node["type"]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):  # in 3.0, ``examples`` is a map, and only beside a schema
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    return node
