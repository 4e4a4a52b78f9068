"""The trial's records over HTTP (contract §8, §9): outcomes after screening, the screening log and
funnel, and the investigator's signed confirmation. Thin adapters over ``service.screening_log`` and
``service.confirmations``."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from ingest.bounds import date_in_range
from service import confirmations, screening_log
from service.commands import ConfirmEligibility, RecordOutcome
from domain.identity import Caller
from web.auth import require
from web.language import for_api
from web.openapi import answers, content
from web.outcomes import outcome

router = APIRouter()
CSV = "text/csv; charset=utf-8"


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date YYYY-MM-DD") from None
    if not date_in_range(day):
        raise HTTPException(400, f"{name} must lie between 1900-01-01 and 2200-12-31")
    return day


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise HTTPException(400, f"{key} must be a string")
    return value


@router.post("/patients/{patient_id}/outcome", status_code=201, tags=["screening log"], responses=answers(400, 404),
             summary="Record what happened after screening (approached, declined, enrolled, not-approached)")
def post_outcome(request: Request, patient_id: str, body: dict = Body(...),
                 caller: Caller = Depends(require("coordinator", "investigator"))):
    rt = request.app.state.rt
    command = RecordOutcome(patient_id, _text(body, "outcome") or "", _text(body, "reason") or "", caller)
    recorded = screening_log.record_outcome(command, rt.uow(), clock=rt.clock)
    return JSONResponse(recorded, status_code=201)


def _period(site: str | None, first_from: str | None, first_to: str | None):
    return dict(site=site or None, first_from=_day(first_from, "from"), first_to=_day(first_to, "to"))


_LOG_ROWS = {"description": "One row per child first screened in the period",
             "content": {CSV: {"schema": {"type": "string"}},
                         "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}


@router.get("/screening-log", tags=["screening log"], response_class=Response,
            responses={200: _LOG_ROWS, **answers(400, 404)},
            summary="The screening log: CSV (default, or Accept: text/csv) or JSON (Accept: application/json)")
def get_screening_log(request: Request, site: str | None = Query(None), first_from: str | None = Query(None, alias="from"),
                      first_to: str | None = Query(None, alias="to"),
                      caller: Caller = Depends(require("coordinator", "investigator", "monitor"))):
    rt = request.app.state.rt
    period = _period(site, first_from, first_to)
    if _wants_json(request.headers.get("accept", "")):
        return JSONResponse(screening_log.screening_log_rows(caller, rt.uow(), clock=rt.clock, **period))
    return Response(screening_log.screening_log_csv(caller, rt.uow(), clock=rt.clock, **period), media_type=CSV,
                    headers={"Content-Disposition": 'attachment; filename="screening-log.csv"'})


def _wants_json(accept: str) -> bool:
    """JSON only when asked for before (or instead of) CSV; CSV by default."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for kind in kinds:
        if kind in ("text/csv",):
            return False
        if kind in ("application/json", "application/fhir+json"):
            return True
    return False


@router.get("/funnel", tags=["screening log"], summary="The screening funnel and per-criterion counts",
            responses=answers(400, 404))
def get_funnel(request: Request, site: str | None = Query(None), first_from: str | None = Query(None, alias="from"),
               first_to: str | None = Query(None, alias="to"),
               caller: Caller = Depends(require("coordinator", "investigator", "monitor"))):
    rt = request.app.state.rt
    return screening_log.funnel(caller, rt.uow(), clock=rt.clock, **_period(site, first_from, first_to))


@router.post("/patients/{patient_id}/confirmation", status_code=201, tags=["confirmation"],
             responses=answers(400, 404, 409),
             summary="An investigator signs the child's eligibility (re-entering the token)")
def post_confirmation(request: Request, patient_id: str, body: dict = Body(...),
                      caller: Caller = Depends(require("investigator"))):
    if caller.role != "investigator":
        raise HTTPException(403, "only an investigator of the child's site signs its eligibility")
    as_of = _day(_text(body, "as_of"), "as_of")
    if as_of is None:
        return outcome(400, "required", "as_of is required (YYYY-MM-DD)", expression="as_of")
    command = ConfirmEligibility(patient_id, as_of, _text(body, "meaning"), _text(body, "reauth") or "", caller,
                                 language=for_api(request))
    rt = request.app.state.rt
    signed = confirmations.confirm_eligibility(command, rt.uow(), clock=rt.clock)
    return JSONResponse(signed, status_code=201)


@router.get("/patients/{patient_id}/confirmation", tags=["confirmation"], responses=answers(404),
            summary="The child's signed confirmations, newest first, each with valid")
def get_confirmations(request: Request, patient_id: str,
                      caller: Caller = Depends(require("coordinator", "investigator"))):
    rt = request.app.state.rt
    return confirmations.list_confirmations(patient_id, caller, rt.uow(), clock=rt.clock)
