"""FHIR OperationOutcome bodies for every error the API answers."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from ingest.media_types import FHIR_JSON

__all__ = ["FHIR_JSON", "outcome"]


def outcome(status: int, code: str, diagnostics: str, *, expression: str | None = None,
            severity: str = "error") -> JSONResponse:
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return JSONResponse(
        {"resourceType": "OperationOutcome", "issue": [issue]}, status_code=status, media_type=FHIR_JSON
    )

