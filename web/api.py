"""The contract's routes (§5). Handlers validate, store in one transaction, then enqueue."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool

from ingest.bounds import date_in_range
from ingest.errors import InvalidHl7, InvalidInput
from ingest.hl7v2 import ack, ack_error
from store import audit
from store import screening as screenings
from domain.identity import Refusal, Refused
from store.intake import Item, Registration, Stored, Subject, store_message
from store.models import Alert, Patient, Screening
from store.tokens import Caller
from web.auth import require
from web.intake import BUNDLE_TYPES, bundle_items, hl7_items, resource_items
from web.outcomes import FHIR_JSON, MAX_ROW_ID, outcome, row_id_in_range
from workers.app import EVALUATE
from workers.tasks import send_best_effort

router = APIRouter()


async def _body(request: Request) -> bytes:
    limit = request.app.state.rt.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    return body


def _enqueue(rt, patient_pks: list[int]) -> None:
    for pk in patient_pks:
        send_best_effort(rt.celery, EVALUATE, [pk])


def store_and_enqueue(request: Request, *, channel: str, content_type: str, body: str, caller: Caller,
                      items: list[Item], control_id: str | None = None, atomic: bool = True,
                      audited: tuple[str, str] | None = None) -> Stored:
    """The one path every message takes (API and pages): check authority, store, audit, commit, then
    enqueue. Raises ``Refused`` (nothing stored) when ``atomic`` and an item is refused.

    ``audited``: an (action, target) the caller did through this message, kept with the message.
    """
    rt = request.app.state.rt
    with rt.uow() as uow:
        now = rt.clock.now()
        stored = store_message(uow.session, channel=channel, content_type=content_type, body=body,
                               sender=caller, items=items, now=now, control_id=control_id, atomic=atomic)
        if stored.duplicate_of is not None:
            return stored
        audit.record(uow.session, caller.name, "post", f"Message/{stored.message_pk}", now)
        if audited is not None:
            audit.record(uow.session, caller.name, audited[0], audited[1], now)
        uow.on_commit(lambda: _enqueue(rt, stored.enqueue))
        uow.commit()
    return stored


def refused_outcome(exc: Refused):
    return outcome(exc.refusal.http_status, _REFUSAL_CODES[exc.refusal.http_status], exc.refusal.explanation)


_REFUSAL_CODES = {403: "forbidden", 409: "conflict", 422: "processing"}
_REASON = {202: "Accepted", 400: "Bad Request", 403: "Forbidden", 409: "Conflict", 422: "Unprocessable Entity"}


@router.post("/fhir", status_code=202, tags=["ingest"], summary="Post a Bundle (batch, transaction or collection)")
async def post_bundle(request: Request, caller: Caller = Depends(require("lab", "investigator"))):
    raw = await _body(request)
    # Validation and storage are blocking work: off the event loop, so requests overlap.
    return await run_in_threadpool(_accept_bundle, request, raw, caller)


def _accept_bundle(request: Request, raw: bytes, caller: Caller):
    try:
        parsed = bundle_items(raw, request.app.state.rt.clock.today())
    except InvalidInput as exc:
        return outcome(400, exc.code, str(exc), expression=exc.location)
    text_body = raw.decode("utf-8")
    try:
        stored = store_and_enqueue(
            request, channel="fhir", content_type=request.headers.get("content-type", FHIR_JSON), body=text_body,
            caller=caller, items=parsed.items, atomic=parsed.atomic)
    except Refused as exc:
        return refused_outcome(exc)
    entries = []
    for entry in parsed.entries:
        refusal = stored.refused.get(entry.item) if entry.item is not None else None
        if refusal is not None:
            code = refusal.http_status
            entry.status, entry.problem = f"{code} {_REASON[code]}", refusal.explanation
        response = {"status": entry.status}
        if entry.location:
            response["location"] = entry.location
        if entry.problem:
            response["outcome"] = {"resourceType": "OperationOutcome",
                                   "issue": [{"severity": "error", "code": "invalid", "diagnostics": entry.problem}]}
        entries.append({"response": response})
    duplicate = stored.duplicate_of is not None
    body = {"resourceType": "Bundle", "type": "batch-response", "entry": entries,
            "meta": {"tag": [{"system": "urn:myocit:message", "code": str(stored.message_pk),
                              "display": "duplicate" if duplicate else "stored"}]}}
    return JSONResponse(body, status_code=202, media_type=FHIR_JSON)


@router.post("/fhir/{resource_type}", status_code=202, tags=["ingest"], summary="Post one FHIR resource")
async def post_resource(resource_type: str, request: Request,
                        caller: Caller = Depends(require("lab", "investigator"))):
    raw = await _body(request)
    return await run_in_threadpool(_accept_resource, request, raw, resource_type, caller)


def _accept_resource(request: Request, raw: bytes, resource_type: str, caller: Caller):
    try:
        items, location = resource_items(raw, resource_type, request.app.state.rt.clock.today())
    except InvalidInput as exc:
        return outcome(400, exc.code, str(exc), expression=exc.location)
    try:
        stored = store_and_enqueue(
            request, channel="fhir", content_type=request.headers.get("content-type", FHIR_JSON),
            body=raw.decode("utf-8"), caller=caller, items=items)
    except Refused as exc:
        return refused_outcome(exc)
    said = "already stored" if stored.duplicate_of is not None else "stored"
    response = outcome(202, "informational", f"{location} {said} as message {stored.message_pk}",
                       severity="information")
    response.headers["Location"] = location
    return response


HL7_MEDIA = "x-application/hl7-v2+er7"
_HL7_REFUSAL_CODES = {Refusal.AMBIGUOUS: 204}
"""HL7 table 0357: 204 unknown key identifier; everything else an application error (207)."""


@router.post("/hl7v2", tags=["ingest"], summary="Post one HL7 v2 ORU^R01 message; answers an HL7 ACK",
             response_class=PlainTextResponse)
async def post_hl7(request: Request, caller: Caller = Depends(require("lab"))):
    raw = await _body(request)
    return await run_in_threadpool(_accept_hl7, request, raw, caller)


def _accept_hl7(request: Request, raw: bytes, caller: Caller):
    rt = request.app.state.rt
    try:
        text_body = raw.decode("utf-8")
    except UnicodeDecodeError:
        text_body = raw.decode("latin-1")
    try:
        message, items, control_id = hl7_items(text_body, authorities=rt.settings.authority_systems(),
                                               max_results=rt.settings.max_results_per_message)
    except InvalidHl7 as exc:
        return PlainTextResponse(ack_error(text_body, exc, now=rt.clock.now()), status_code=400,
                                 media_type=HL7_MEDIA)
    try:
        store_and_enqueue(request, channel="hl7v2", content_type=HL7_MEDIA, body=text_body,
                          caller=caller, items=items, control_id=control_id)
    except Refused as exc:
        refusal = InvalidHl7(exc.refusal.explanation, error_code=_HL7_REFUSAL_CODES.get(exc.refusal, 207),
                             location="PID^1^3")
        status = 403 if exc.refusal.http_status == 403 else 422
        return PlainTextResponse(ack_error(message, refusal, now=rt.clock.now()), status_code=status,
                                 media_type=HL7_MEDIA)
    return PlainTextResponse(ack(message, "AA", "stored", now=rt.clock.now()), status_code=202, media_type=HL7_MEDIA)


def _visible_patient(session, caller: Caller, patient_id: str) -> Patient:
    row = session.scalar(select(Patient).where(Patient.id == patient_id, Patient.registered.is_(True)))
    if row is None or not caller.sees_site(row.site):
        raise HTTPException(404, f"no patient {patient_id} for this site")
    return row


@router.get("/patients/{patient_id}/eligibility", tags=["screening"], summary="The latest screening, or one for ?as_of=")
def eligibility(request: Request, patient_id: str, as_of: date | None = Query(None, description="YYYY-MM-DD"),
                caller: Caller = Depends(require("coordinator", "investigator"))):
    rt = request.app.state.rt
    if as_of is not None and not date_in_range(as_of):
        raise HTTPException(400, "as_of must lie between 1900-01-01 and 2200-12-31")
    with rt.uow() as uow:
        row = _visible_patient(uow.session, caller, patient_id)
        audit.record(uow.session, caller.name, "view", f"Patient/{row.id}", rt.clock.now())
        latest = None
        if as_of is None:
            latest = uow.session.scalar(
                select(Screening).where(Screening.patient_pk == row.pk).order_by(Screening.pk.desc()).limit(1)
            )
        body = latest.result if latest is not None else \
            screenings.compute(uow.session, row, rt.protocol, as_of or rt.clock.today()).to_json()
        uow.commit()
    return body


def _alert_json(alert: Alert, patient_id: str) -> dict:
    return {
        "id": alert.pk,
        "patient": patient_id,
        "from_status": alert.from_status,
        "to_status": alert.to_status,
        "changed": alert.changed,
        "created_at": alert.created_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


@router.get("/alerts", tags=["alerts"], summary="Alerts for the caller's site, oldest first")
def list_alerts(request: Request, after: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=5000),
                caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    with rt.uow() as uow:
        query = (select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk)
                 .where(Alert.pk > min(after, MAX_ROW_ID)))
        if caller.role != "admin":
            query = query.where(Alert.site.in_(sorted(caller.sites)))
        rows = uow.session.execute(query.order_by(Alert.pk).limit(limit)).all()
        body = [_alert_json(alert, pid) for alert, pid in rows]
        audit.record(uow.session, caller.name, "view-alerts", f"Site/{caller.site_label}", rt.clock.now())
        uow.commit()
    return body


def ack_alert(session, caller: Caller, alert_id: int, now) -> tuple[Alert, str] | None:
    """Acknowledge an alert the caller's site owns (API and pages); None when it is not theirs."""
    if not row_id_in_range(alert_id):
        return None
    found = session.execute(
        select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(Alert.pk == alert_id)
        .with_for_update(of=Alert)
    ).first()
    if found is None or not caller.sees_site(found[0].site):
        return None
    alert, pid = found
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = caller.name
    audit.record(session, caller.name, "ack", f"Alert/{alert.pk}", now)
    return alert, pid


@router.post("/alerts/{alert_id}/ack", tags=["alerts"], summary="Acknowledge an alert")
def acknowledge(request: Request, alert_id: int, caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    with rt.uow() as uow:
        found = ack_alert(uow.session, caller, alert_id, rt.clock.now())
        if found is None:
            raise HTTPException(404, f"no alert {alert_id} for this site")
        body = _alert_json(*found)
        uow.commit()
    return body


@router.get("/healthz", tags=["service"], summary="200 when the database and the broker answer")
def healthz(request: Request, response: Response):
    rt = request.app.state.rt
    checks = {}
    try:
        with rt.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure as "down"
        checks["database"] = f"down ({type(exc).__name__})"
    try:
        with rt.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"down ({type(exc).__name__})"
    healthy = all(v == "ok" for v in checks.values())
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "unavailable", **checks}


__all__ = ["router", "BUNDLE_TYPES", "Registration", "Subject"]
