"""For whoever runs the service: one view of whether work is flowing (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from service.operations import work_overview
from domain.identity import Caller
from web.auth import require

router = APIRouter(tags=["service"])


@router.get("/status", summary="Work waiting, stuck or failing: pending evaluations, due re-screenings, "
            "undelivered alerts (admins)")
def status(request: Request, caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    return work_overview(rt.uow(), clock=rt.clock).to_json()
