"""FHIR OperationOutcome bodies for every error the API answers: the body is the service's one builder
(``service.fhir.operation_outcome``), sent here with its status and the FHIR media type."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from ingest.media_types import FHIR_JSON
from service.fhir import operation_outcome

__all__ = ["FHIR_JSON", "outcome"]


def outcome(status: int, code: str, diagnostics: str, *, expression: str | None = None,
            severity: str = "error") -> JSONResponse:
    body = operation_outcome(code, diagnostics, expression=expression, severity=severity)
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)
