"""Data protection over HTTP (contract §17): a family's objection, the purge log, and the audit export.
Thin adapters over ``service.data_protection``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta, timezone

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from domain.identity import Caller
from ingest.bounds import date_in_range
from service import data_protection
from service.commands import ExportAudit, RecordObjection
from store.audit import EXPORT_COLUMNS
from web.auth import require
from web.openapi import answers

router = APIRouter()


@router.post("/patients/{patient_id}/objection", status_code=200, tags=["data protection"],
             responses=answers(400, 404),
             summary="Record a family's objection: the child is erased, a tombstone stays (contract §17)")
def post_objection(request: Request, patient_id: str, body: dict | None = Body(None),
                   caller: Caller = Depends(require("coordinator", "investigator"))):
    rt = request.app.state.rt
    reason = (body or {}).get("reason")
    if reason is not None and not isinstance(reason, str):
        raise HTTPException(400, "reason must be a string")
    done = data_protection.record_objection(RecordObjection(patient_id, reason, caller), rt.uow(), clock=rt.clock)
    return JSONResponse(done)


@router.get("/purges", tags=["data protection"], summary="Every purge: when, why, how many children, never which")
def get_purges(request: Request, caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    return data_protection.purge_log(caller, rt.uow(), clock=rt.clock)


def moment(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A date (the whole day: ``to`` includes it) or an ISO instant (UTC when it names no offset)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if not date_in_range(day):
                raise ValueError
            start = datetime.combine(day, time.min, tzinfo=timezone.utc)
            return start + timedelta(days=1) if end else start
        at = datetime.fromisoformat(value)
        if not date_in_range(at.date()):
            raise ValueError
    except ValueError:
        raise HTTPException(400, f"{name} must be a date YYYY-MM-DD or an ISO time") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def csv_lines(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_safe(row[c]) for c in EXPORT_COLUMNS])
        if out.tell() > 32_768:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def json_lines(rows):
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]"


def _safe(cell) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


@router.get("/audit", tags=["data protection"], response_class=StreamingResponse,
            responses=answers(400),
            summary="Who saw what: the audit, CSV (default) or JSON (Accept: application/json), streamed")
def get_audit(request: Request, since: str | None = Query(None, alias="from"), until: str | None = Query(None, alias="to"),
              patient: str | None = Query(None), actor: str | None = Query(None),
              caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    command = ExportAudit(caller, moment(since, "from"), moment(until, "to", end=True), patient or None, actor or None)
    rows = data_protection.export_audit(command, rt.uow(), clock=rt.clock)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/csv" not in accept:
        return StreamingResponse(iterate_in_threadpool(json_lines(rows)), media_type="application/json")
    return StreamingResponse(iterate_in_threadpool(csv_lines(rows)), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
