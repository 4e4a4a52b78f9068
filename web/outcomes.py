"""FHIR OperationOutcome bodies for every error the API answers."""

from __future__ import annotations

from fastapi.responses import JSONResponse

FHIR_JSON = "application/fhir+json"


def outcome(status: int, code: str, diagnostics: str, *, expression: str | None = None,
            severity: str = "error") -> JSONResponse:
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return JSONResponse(
        {"resourceType": "OperationOutcome", "issue": [issue]}, status_code=status, media_type=FHIR_JSON
    )


MAX_ROW_ID = 2**63 - 1


def row_id_in_range(value: int) -> bool:
    """A numeric id in a URL that a row could have; any other is answered 404, never sent to SQL."""
    return 0 < value <= MAX_ROW_ID
