"""The contract's routes (§5): thin adapters that read the request, build a command, call its handler
in ``service``, and answer in FHIR (OperationOutcome) or HL7 (ACK) terms."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ingest.bounds import date_in_range
from service import alerts, fhir, hl7, replay, screenings
from service.commands import (AcknowledgeAlert, ReceiveFhirBundle, ReceiveFhirResource, ReceiveHl7, ReplayAlert,
                              ScreenAsOf, ScreenKnownAt)
from domain.identity import Caller
from ingest import hl7v2
from web.auth import require
from web.language import for_api
from web.openapi import answers, body, content
from web.outcomes import FHIR_JSON, outcome
from web.request_checks import fhir_body, hl7_media_refused

router = APIRouter()
HL7_MEDIA = hl7.CONTENT_TYPE


class Hl7Ack(PlainTextResponse):
    media_type = HL7_MEDIA


async def _body(request: Request) -> bytes:
    limit = request.app.state.rt.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    return body


FHIR_BODY = body(FHIR_JSON, "application/json")


@router.post("/fhir", status_code=202, tags=["ingest"], summary="Post a Bundle (batch, transaction or collection)",
             responses={202: content(FHIR_JSON, "Every entry stored: a batch-response Bundle with a status per entry"),
                        **answers(400, 403, 409, 413, 415, 422)},
             openapi_extra=FHIR_BODY, dependencies=[Depends(fhir_body)])
async def post_bundle(request: Request, caller: Caller = Depends(require("lab", "investigator"))):
    raw = await _body(request)
    # Validation and storage are blocking work: off the event loop, so requests overlap.
    return await run_in_threadpool(_accept_bundle, request, raw, caller)


def _accept_bundle(request: Request, raw: bytes, caller: Caller):
    rt = request.app.state.rt
    content_type = request.headers.get("content-type", FHIR_JSON)
    answer = fhir.receive_bundle(ReceiveFhirBundle(raw, content_type, caller), rt.uow(), clock=rt.clock,
                                 dispatch=rt.dispatch, protocol=rt.protocol)
    return _fhir_response(answer)


def _fhir_response(answer: fhir.FhirAnswer) -> JSONResponse:
    response = JSONResponse(answer.body, status_code=answer.status, media_type=FHIR_JSON)
    if answer.location is not None:
        response.headers["Location"] = answer.location
    return response


@router.post("/fhir/{resource_type}", status_code=202, tags=["ingest"], summary="Post one FHIR resource",
             responses=answers(202, 400, 403, 409, 413, 415, 422), openapi_extra=FHIR_BODY,
             dependencies=[Depends(fhir_body)])
async def post_resource(resource_type: str, request: Request,
                        caller: Caller = Depends(require("lab", "investigator"))):
    raw = await _body(request)
    return await run_in_threadpool(_accept_resource, request, raw, resource_type, caller)


def _accept_resource(request: Request, raw: bytes, resource_type: str, caller: Caller):
    rt = request.app.state.rt
    content_type = request.headers.get("content-type", FHIR_JSON)
    answer = fhir.receive_resource(ReceiveFhirResource(raw, resource_type, content_type, caller), rt.uow(),
                                   clock=rt.clock, dispatch=rt.dispatch, protocol=rt.protocol)
    return _fhir_response(answer)


_ACK = {"type": "string", "description": "The HL7 v2 ACK (MSA-1 AA, AE or AR)"}


@router.post("/hl7v2", status_code=202, tags=["ingest"],
             summary="Post one HL7 v2 ORU^R01 message; answers an HL7 ACK", response_class=Hl7Ack,
             responses={202: content(HL7_MEDIA, "Stored (or already stored): ACK AA", _ACK),
                        400: content(HL7_MEDIA, "Unreadable: ACK AE or AR", _ACK),
                        403: content(HL7_MEDIA, "A patient of another site: ACK AR", _ACK),
                        415: content(HL7_MEDIA, "The body's Content-Type is not HL7 v2: ACK AR", _ACK),
                        422: content(HL7_MEDIA, "The patient is not identified: ACK AE", _ACK),
                        **answers(413)},
             openapi_extra=body(HL7_MEDIA, schema={"type": "string"}))
async def post_hl7(request: Request, caller: Caller = Depends(require("lab"))):
    refused = hl7_media_refused(request)
    if refused is not None:
        rt = request.app.state.rt
        ack = hl7v2.ack(None, "AR", refused, error_code=102, now=rt.clock.now())
        return PlainTextResponse(ack, status_code=415, media_type=HL7_MEDIA)
    raw = await _body(request)
    return await run_in_threadpool(_accept_hl7, request, raw, caller)


def _accept_hl7(request: Request, raw: bytes, caller: Caller):
    """``service.hl7.receive_hl7``, as MLLP does: the same reading (MSH-18), store, refusals and ACK."""
    rt = request.app.state.rt
    answer = hl7.receive_hl7(ReceiveHl7(raw, "hl7v2", caller), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                             authorities=rt.settings.authority_systems(),
                             max_results=rt.settings.max_results_per_message,
                             max_segments=rt.settings.max_segments_per_message)
    return PlainTextResponse(answer.ack, status_code=answer.status, media_type=HL7_MEDIA)


PENDING_RETRY_SECONDS = 5


@router.get("/patients/{patient_id}/eligibility", tags=["screening"],
            summary="The latest stored screening (202 while the first is pending), or one computed for ?as_of=",
            responses={202: {**answers(202)[202], "description": "Registered, its first screening not stored yet "
                             "(an OperationOutcome; Retry-After says when to ask again)",
                             "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
                       **answers(400, 404)})
def eligibility(request: Request, answer: Response, patient_id: str, as_of: date | None = Query(None, description="YYYY-MM-DD"),
                known_at: str | None = Query(None, description="ISO timestamp with offset (contract §11)"),
                caller: Caller = Depends(require("coordinator", "investigator"))):
    """Contract §5.1: only what was stored is shown as the patient's screening, so a reader never sees
    a status the alert stream does not know. ``known_at`` (§11): only the facts received by then.
    Reasons in the language of ``Accept-Language`` (§18), named in ``Content-Language``."""
    rt = request.app.state.rt
    lang = for_api(request)
    answer.headers["Content-Language"] = lang
    if as_of is not None and not date_in_range(as_of):
        raise HTTPException(400, "as_of must lie between 1900-01-01 and 2200-12-31")
    if known_at is not None:
        moment = _instant(known_at)
        # Without as_of the day is known_at's at the sites, which an offset can push past a bound.
        day = as_of or moment.astimezone(ZoneInfo(rt.settings.timezone)).date()
        if not date_in_range(day):
            raise HTTPException(400, "known_at, read at the sites' time zone, must lie between 1900-01-01 "
                                "and 2200-12-31")
        return replay.screen_known_at(ScreenKnownAt(patient_id, caller, day, moment), rt.uow(),
                                      protocol=rt.protocol, clock=rt.clock, language=lang)
    if as_of is not None:
        return screenings.screen_as_of(ScreenAsOf(patient_id, caller, as_of), rt.uow(), protocol=rt.protocol,
                                       clock=rt.clock, language=lang)
    stored = screenings.latest_stored(patient_id, caller, rt.uow(), clock=rt.clock, language=lang)
    if stored is None:
        response = outcome(202, "informational", f"the screening of {patient_id} is pending: its first evaluation "
                           "is not stored yet; retry shortly", severity="information")
        response.headers["Retry-After"] = str(PENDING_RETRY_SECONDS)
        return response
    return stored


@router.get("/alerts", tags=["alerts"], summary="Alerts for the caller's site, oldest first")
def list_alerts(request: Request, after: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=5000),
                caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    return alerts.list_alerts(caller, rt.uow(), clock=rt.clock, after=after, limit=limit)


def _instant(text: str) -> datetime:
    """``known_at``: an ISO timestamp with its offset, between 1900 and 2200; else 400."""
    if len(text) > 6 and text[-6] == " ":
        text = f"{text[:-6]}+{text[-5:]}"  # a "+" sent unencoded in the query arrives as a space
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, "known_at must be an ISO 8601 timestamp with offset") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise HTTPException(400, "known_at must carry its offset (e.g. +01:00 or Z)")
    if not (date_in_range(moment.date()) and date_in_range(moment.astimezone(timezone.utc).date())):
        raise HTTPException(400, "known_at must lie between 1900-01-01 and 2200-12-31")
    return moment


@router.get("/alerts/{alert_id}", tags=["alerts"], responses=answers(404),
            summary="An alert with the stored screening that raised it and the facts it used (contract §11)")
def get_alert(request: Request, alert_id: int, caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    return replay.replay_alert(ReplayAlert(alert_id, caller), rt.uow(), clock=rt.clock)


@router.post("/alerts/{alert_id}/ack", tags=["alerts"], summary="Acknowledge an alert", responses=answers(404))
def acknowledge(request: Request, alert_id: int, caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    return alerts.acknowledge_alert(AcknowledgeAlert(alert_id, caller), rt.uow(), clock=rt.clock)


__all__ = ["router"]
