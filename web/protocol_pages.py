"""Admin pages of protocol amendments (contract §10): the versions, the diff of two, the last shadow
report; and, for a coordinator, what was known when an alert was raised (contract §11)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from config import language
from domain.criteria import ORDER
from service import amendments, pages, replay
from service.commands import ReplayAlert
from service.errors import Invalid
from domain.identity import Caller
from web.page_kit import render
from web.session import page_caller as role

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/protocols")
def protocols_page(request: Request, a: str | None = Query(None), b: str | None = Query(None),
                   caller: Caller = Depends(role("admin"))):
    rt = request.app.state.rt
    found = amendments.versions(rt.settings.protocols)
    names = {v.name for v in found}
    active = rt.protocols.name()
    changes = problem = None
    if a and b:
        if a not in names or b not in names:
            problem = language.gettext("Choose two versions from the list.")
        else:
            try:
                old = amendments.load_candidate(a, rt.settings.protocols)
                new = amendments.load_candidate(b, rt.settings.protocols)
                changes = amendments.compare_versions(old.protocol, new.protocol)
            except Invalid as exc:
                # What the protocol's files say is wrong is technical (a file, a field): kept as it is.
                problem = language.gettext("These versions cannot be compared: {problem}").format(problem=exc)
    stored = pages.protocol_history(caller, rt.uow(), clock=rt.clock)
    return render(request, "protocols.html", versions=found, active=active, history=stored.activations,
                  report=stored.shadow_report, changes=changes, problem=problem, a=a or active, b=b or "",
                  page="protocols", criteria=ORDER)


@router.get("/alerts/{alert_id}/known")
def known_page(request: Request, alert_id: int, caller: Caller = Depends(role("coordinator"))):
    """What was known when the alert was raised: its stored screening and the facts it used."""
    rt = request.app.state.rt
    body = replay.replay_alert(ReplayAlert(alert_id, caller), rt.uow(), clock=rt.clock)
    return render(request, "known.html", alert=body, screening=body["screening"], facts=body["facts"])
