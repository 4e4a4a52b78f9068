"""What every request must be before a route reads it: no NUL character in its path or query, and a
body of the media type its route reads.

PostgreSQL stores and compares no NUL in text, so a NUL reaching a query would be a database error
(once answered 503, as if the service were down): it is a bad request, refused here with 400. A body
posted with another media type than its route reads (a form, XML) is refused with 415 before it is
parsed; a request without Content-Type is read as the route's own type.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from web.outcomes import outcome

FHIR_MEDIA_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})
HL7_MEDIA_TYPES = frozenset({"x-application/hl7-v2+er7", "application/hl7-v2", "application/hl7-v2+er7",
                             "application/edi-hl7", "text/plain"})


class RefuseNul:
    """An ASGI middleware answering 400 to a path or query string holding a NUL character."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _holds_nul(scope):
            response = outcome(400, "value", "the request's path or query holds a NUL character")
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def _holds_nul(scope) -> bool:
    query = scope.get("query_string", b"")  # still percent-encoded: "%00" is a NUL once decoded
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


def media_type(request: Request) -> str | None:
    """The request's media type, lower case, without parameters; None when it sent none."""
    declared = request.headers.get("content-type")
    if declared is None or not declared.strip():
        return None
    return declared.split(";", 1)[0].strip().lower()


def fhir_body(request: Request) -> None:
    """A route dependency: the body is FHIR JSON (or no Content-Type was sent); else 415."""
    found = media_type(request)
    if found is not None and found not in FHIR_MEDIA_TYPES:
        raise HTTPException(415, f"Content-Type {found[:60]!r} is not FHIR JSON: send application/fhir+json")


def hl7_media_refused(request: Request) -> str | None:
    """Why the body is not HL7 v2 ER7 by its Content-Type (None when it is, or none was sent)."""
    found = media_type(request)
    if found is not None and found not in HL7_MEDIA_TYPES:
        return f"Content-Type {found[:60]!r} is not HL7 v2 ER7: send x-application/hl7-v2+er7"
    return None
