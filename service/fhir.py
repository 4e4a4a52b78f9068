"""Answering FHIR JSON posted to the API (``POST /fhir`` a Bundle, ``POST /fhir/{type}`` one resource), as
``service.hl7`` answers HL7 v2: read and bound (``ingest.submissions``), record
(``service.intake.record_message``), then the answer in FHIR terms (contract §5): a batch-response Bundle
with a status per entry, or an OperationOutcome. The route only reads the body and writes the answer out.

The answer is built only once the message is committed, so a 202 always means it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.identity import Refusal, Refused
from ingest.errors import InvalidInput
from ingest.submissions import ParsedBundle, bundle_items, resource_items
from service import intake
from service.commands import ReceiveFhirBundle, ReceiveFhirResource, RecordMessage
from service.ports import Clock, Dispatcher
from store.intake import Stored
from store.uow import UnitOfWork

REFUSAL_CODES = {403: "forbidden", 409: "conflict", 422: "processing"}
"""The OperationOutcome issue code of a refusal (§13), by its HTTP status."""
REASONS = {202: "Accepted", 400: "Bad Request", 403: "Forbidden", 409: "Conflict", 422: "Unprocessable Entity"}
"""A batch-response entry's status is its HTTP code and reason phrase."""


@dataclass(frozen=True)
class FhirAnswer:
    status: int
    """202 stored (or already stored), 400 unreadable or out of bounds, 403 / 409 / 422 refused (§13)."""
    body: dict
    """A batch-response Bundle or an OperationOutcome, as JSON."""
    location: str | None = None
    """One resource stored: where it is (``Location``)."""


def operation_outcome(code: str, diagnostics: str, *, expression: str | None = None,
                      severity: str = "error") -> dict:
    """An OperationOutcome of one issue."""
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _unreadable(exc: InvalidInput) -> FhirAnswer:
    return FhirAnswer(400, operation_outcome(exc.code, str(exc), expression=exc.location))


def _refused(refusal: Refusal) -> FhirAnswer:
    status = refusal.http_status
    return FhirAnswer(status, operation_outcome(REFUSAL_CODES[status], refusal.explanation))


def receive_bundle(cmd: ReceiveFhirBundle, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher, protocol) -> FhirAnswer:
    """Read, check and store one Bundle. A transaction (or collection) is stored whole or refused whole;
    a batch entry by entry, each entry's status in the batch-response."""
    try:
        parsed = bundle_items(cmd.raw, clock.today(), protocol)
    except InvalidInput as exc:
        return _unreadable(exc)
    try:
        stored = intake.record_message(
            RecordMessage(channel="fhir", content_type=cmd.content_type, body=cmd.raw.decode("utf-8"),
                          sender=cmd.sender, items=parsed.items, atomic=parsed.atomic),
            uow, clock=clock, dispatch=dispatch)
    except Refused as exc:
        return _refused(exc.refusal)
    return FhirAnswer(202, batch_response(parsed, stored))


def batch_response(parsed: ParsedBundle, stored: Stored) -> dict:
    """Every entry's status (accepted, unreadable, or refused by §13), tagged with the stored message."""
    entries = []
    for entry in parsed.entries:
        refusal = stored.refused.get(entry.item) if entry.item is not None else None
        if refusal is not None:
            code = refusal.http_status
            entry.status, entry.problem = f"{code} {REASONS[code]}", refusal.explanation
        response = {"status": entry.status}
        if entry.location:
            response["location"] = entry.location
        if entry.problem:
            response["outcome"] = {"resourceType": "OperationOutcome",
                                   "issue": [{"severity": "error", "code": "invalid", "diagnostics": entry.problem}]}
        entries.append({"response": response})
    duplicate = stored.duplicate_of is not None
    if stored.message_pk is None:
        # Every entry named a child whose family objected (contract §17): acknowledged, nothing kept.
        return {"resourceType": "Bundle", "type": "batch-response", "entry": entries}
    return {"resourceType": "Bundle", "type": "batch-response", "entry": entries,
            "meta": {"tag": [{"system": "urn:myocit:message", "code": str(stored.message_pk),
                              "display": "duplicate" if duplicate else "stored"}]}}


def receive_resource(cmd: ReceiveFhirResource, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher,
                     protocol) -> FhirAnswer:
    """Read, check and store one resource, whole or not at all."""
    try:
        items, location = resource_items(cmd.raw, cmd.resource_type, clock.today(), protocol)
    except InvalidInput as exc:
        return _unreadable(exc)
    try:
        stored = intake.record_message(
            RecordMessage(channel="fhir", content_type=cmd.content_type, body=cmd.raw.decode("utf-8"),
                          sender=cmd.sender, items=items),
            uow, clock=clock, dispatch=dispatch)
    except Refused as exc:
        return _refused(exc.refusal)
    said = "already stored" if stored.duplicate_of is not None else "stored"
    text = f"{location} {said} as message {stored.message_pk}" if stored.message_pk else f"{location} acknowledged"
    return FhirAnswer(202, operation_outcome("informational", text, severity="information"), location)
