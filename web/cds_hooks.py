"""The CDS Hooks service (contract §15): discovery, ``patient-view`` and its feedback. Thin adapters
over ``service.cds_hooks``: each reads the bearer JWT and the JSON body, names the URL it was called
at (the JWT's ``aud``), and answers what the handler returns; refusals are ``web/errors.py``'s."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from delivery.cds_http import HttpxJson
from service import cds_hooks
from service.commands import CallCdsService
from web.api import _body
from web.openapi import answers, body

router = APIRouter(tags=["CDS Hooks"])
SERVICE = f"/cds-services/{cds_hooks.SERVICE_ID}"
CARDS = {200: {"description": "The CDS Hooks response: one card, or none",
               "content": {"application/json": {"schema": {"type": "object"}}}}}


def hooks_of(request: Request) -> cds_hooks.CdsHooks:
    """The service's keys and HTTP client, built once per process."""
    state = request.app.state
    if not hasattr(state, "cds_hooks"):
        rt, http = state.rt, HttpxJson()
        state.cds_hooks = cds_hooks.CdsHooks(cds_hooks.EhrKeys(http), http, rt.clock, rt.protocols,
                                             rt.settings.base_url)
    return state.cds_hooks


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _audiences(request: Request, *paths: str) -> tuple[str, ...]:
    """The URLs this call may have been addressed to: as received, and under MYOCIT_BASE_URL (behind a
    proxy the two differ)."""
    received = f"{request.url.scheme}://{request.url.netloc}"
    base = request.app.state.rt.settings.base_url.rstrip("/")
    return tuple(dict.fromkeys(f"{root}{path}" for path in paths for root in (received, base)))


async def _command(request: Request, *paths: str) -> CallCdsService:
    raw = await _body(request)
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    return CallCdsService(_bearer(request), _audiences(request, *paths), parsed)


@router.get("/cds-services", summary="CDS Hooks discovery: the patient-view service", responses=CARDS)
async def discovery():
    return cds_hooks.DISCOVERY


@router.post(SERVICE, summary="CDS Hooks patient-view: may this child be a MYOCIT candidate?",
             responses={**CARDS, **answers(400, 401, 413)}, openapi_extra=body("application/json"))
async def patient_view(request: Request):
    command = await _command(request, SERVICE)
    hooks, rt = hooks_of(request), request.app.state.rt
    # Answered as built (plain JSON types): no second pass of FastAPI's encoder within the 500 ms budget.
    return JSONResponse(await run_in_threadpool(cds_hooks.patient_view, command, rt.uow(), hooks=hooks))


@router.post(f"{SERVICE}/feedback", summary="CDS Hooks feedback: what the clinician did with a card",
             responses={**CARDS, **answers(400, 401, 413)}, openapi_extra=body("application/json"))
async def feedback(request: Request):
    command = await _command(request, f"{SERVICE}/feedback", SERVICE)
    hooks, rt = hooks_of(request), request.app.state.rt
    return await run_in_threadpool(cds_hooks.feedback, command, rt.uow(), hooks=hooks)
