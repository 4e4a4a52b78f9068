"""The coordinators' and investigators' pages under /ui: worklist, patient, alerts, audit.

Pages read the store's read models (``store.views``) and act only through the service layer: an
attestation or a consent decision is ``service.judgements``, which stores it as a FHIR message through
the same path as a lab's, so the patient is re-evaluated by a worker exactly as after a lab result.
Like the API, a page shows a child's screening only as it was stored (contract §5.1). Only screening
ids are shown: never names, identifiers or birth dates.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from config.clock import shown
from domain.alerting import change_said
from domain.criteria import CRITERIA
from domain.identity import Refused
from domain.units import in_human_units
from ingest.bounds import date_in_range
from service import alerts, judgements, screenings
from service.commands import AcknowledgeAlert, Judgement, RecordAttestations, RecordConsentDecision, ScreenAsOf
from service.errors import Invalid, NotFound
from store import audit, views
from store.models import Alert, Patient
from store.tokens import Caller
from web import worklist
from web.session import (
    COOKIE,
    LOGIN_COOKIE,
    MAX_AGE,
    PAGE_ROLES,
    PageError,
    SignInThrottle,
    caller_of,
    check_csrf,
    end_session,
    login_csrf,
    login_value,
    new_csrf,
    page_token,
    same,
    signed_in,
    start_session,
)
from web.session import page_caller as role

HERE = Path(__file__).parent
router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["human_units"] = in_human_units
# Dates and criterion ids in a reason are kept whole on a line: a browser breaks "2026-12-01" at its hyphens.
_TOKEN = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|(?:INC|EXC)-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b")
templates.env.filters["unbroken"] = lambda text: Markup(_TOKEN.sub(
    lambda m: f'<span class="token">{m[0]}</span>', str(escape(text))))
ATTESTED = [c for c in CRITERIA if c.attested]
NOTICES = {
    "attested": "Attestation recorded. The screening is recomputed in the background: reload in a moment.",
    "consent": "Consent decision recorded. Alerts for this child stop once the screening is recomputed.",
    "acknowledged": "Alert acknowledged.",
    "signed-out": "You are signed out.",
}
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _render(request: Request, name: str, code: int = 200, **context) -> HTMLResponse:
    zone = ZoneInfo(request.app.state.rt.settings.timezone)
    context.setdefault("caller", getattr(request.state, "caller", None))
    context.setdefault("csrf", getattr(request.state, "csrf", None))
    context["notice"] = NOTICES.get(request.query_params.get("done", ""))
    context["local"] = lambda at: shown(at, zone) if at else ""
    context["change"] = change_said
    # Criteria are read by their names and sentences (the active version's criteria.yaml), ids beside.
    protocol = request.app.state.rt.protocol
    context["criterion_name"], context["criterion_sentence"] = protocol.criterion_name, protocol.criterion_sentence
    response = templates.TemplateResponse(request, name, context, status_code=code)
    response.headers.update(HEADERS)
    return response


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _patient(session, caller: Caller, patient_id: str) -> Patient:
    row = views.visible_patient(session, caller, patient_id)
    if row is None:
        raise PageError(404, f"No patient {patient_id} for this site.")
    return row


# --- signing in -------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request):
    if signed_in(request) is not None:
        return _see_other("/ui")
    return _login_page(request)


def _login_page(request: Request, problem: str | None = None, status: int = 200) -> HTMLResponse:
    csrf = new_csrf()
    response = _render(request, "login.html", status, login_csrf=csrf, problem=problem, caller=None)
    response.set_cookie(LOGIN_COOKIE, login_value(request, csrf), max_age=3600, path="/ui", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/login")
async def login(request: Request, token: str = Form(""), csrf: str = Form("")):
    if not same(login_csrf(request), csrf):
        return _login_page(request, "The sign-in form expired. Please paste your token again.", 403)
    problem, status, cookie = await run_in_threadpool(_sign_in, request, token)
    if problem is not None:
        if status == 401:
            # Slowed, and more so with every failure from the same address (contract §13).
            await asyncio.sleep(request.app.state.sign_in_throttle.failed(_address(request)))
        return _login_page(request, problem, status)
    response = _see_other("/ui")
    response.set_cookie(COOKIE, cookie, max_age=MAX_AGE, path="/ui", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sign_in(request: Request, token: str) -> tuple[str | None, int, str | None]:
    """(problem, status, cookie): a stored session for a valid page token, else why not, audited."""
    rt = request.app.state.rt
    with rt.uow() as uow:
        now = rt.clock.now()
        row = page_token(uow.session, token)
        caller = caller_of(row) if row is not None else None
        if caller is None:
            # Never the pasted value: a mistyped token is still most of a token.
            audit.record(uow.session, "anonymous", "sign-in-failed", f"address {_address(request)}", now)
            uow.commit()
            return "This token is unknown or revoked.", 401, None
        if caller.role not in PAGE_ROLES:
            audit.record(uow.session, caller.name, "sign-in-refused", f"role {caller.role}", now)
            uow.commit()
            return f"A {caller.role} token cannot sign in to these pages.", 403, None
        cookie = start_session(request, uow.session, row, now)
        audit.record(uow.session, caller.name, "sign-in", None, now)
        uow.commit()
    return None, 303, cookie


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), caller: Caller = Depends(role(*PAGE_ROLES))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    with rt.uow() as uow:
        end_session(request, uow.session, rt.clock.now())
        audit.record(uow.session, caller.name, "sign-out", None, rt.clock.now())
        uow.commit()
    response = _see_other("/ui/login?done=signed-out")
    response.delete_cookie(COOKIE, path="/ui")
    return response


# --- worklist ---------------------------------------------------------------------------------------


@router.get("")
def worklist_page(request: Request, caller: Caller = Depends(role(*PAGE_ROLES))):
    rt = request.app.state.rt
    groups: dict[str, list[dict]] = {status: [] for status in (*worklist.STATUSES, "pending")}
    with rt.uow() as uow:
        for entry in views.worklist(uow.session, caller):
            patient, screening = entry.patient, entry.screening
            if screening is None:
                groups["pending"].append({"id": patient.id, "site": patient.site})
                continue
            result = screening.result
            groups[screening.status].append({
                "id": patient.id,
                "site": patient.site,
                "age": worklist.age(patient.birth_date, screening.as_of),
                "as_of": result["as_of"],
                "when": worklist.becomes_eligible(result),
                "window": worklist.window(result),
                "timed": worklist.timed(result),
                "todos": worklist.todos(result),
                "blocking": worklist.blocking(result),
                "stopped": patient.alerts_stopped_at is not None,
                "pending": views.is_pending(patient),
            })
        audit.record(uow.session, caller.name, "view-worklist", f"Site/{caller.site_label}", rt.clock.now())
        uow.commit()
    return _render(request, "worklist.html", groups=groups, today=rt.clock.today())


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: str, as_of: str | None = Query(None),
                 caller: Caller = Depends(role(*PAGE_ROLES))):
    rt = request.app.state.rt
    problem = planned = None
    if as_of:
        try:
            planned = date.fromisoformat(as_of)
        except ValueError:
            problem = "That is not a date: use YYYY-MM-DD."
        if planned is not None and not date_in_range(planned):
            planned, problem = None, "Choose a date between 1900-01-01 and 2200-12-31."
    if planned is not None:
        try:
            result = screenings.screen_as_of(ScreenAsOf(patient_id, caller, planned), rt.uow(), protocol=rt.protocol,
                                             clock=rt.clock)
        except NotFound as exc:
            raise PageError(404, f"No patient {patient_id} for this site.") from exc
    with rt.uow() as uow:
        row = _patient(uow.session, caller, patient_id)
        history = views.screening_history(uow.session, row)
        alerts = views.alerts_of_patient(uow.session, row)
        stored = views.latest_screening(uow.session, row)
        if planned is None:
            result = stored.result if stored is not None else None
        events = _timeline(history, alerts, row.alerts_stopped_at, rt.protocol.criterion_name)
        from web import trial_pages  # the trial's records (contract §8, §9); imports this module

        records = trial_pages.patient_records(uow.session, row, caller, stored, rt.protocol.criterion_name)
        events = sorted(events + records.pop("record_events"), key=lambda e: views.utc(e.at), reverse=True)
        audit.record(uow.session, caller.name, "view", f"Patient/{row.id}", rt.clock.now())
        uow.commit()
        patient = {"id": row.id, "site": row.site, "stopped": row.alerts_stopped_at,
                   "pending": views.is_pending(row), "screened_at": stored.screened_at if stored else None,
                   "age": worklist.age(row.birth_date, planned or row.as_of or rt.clock.today())}
    verdicts = {c["id"]: c["verdict"] for c in (result or {}).get("criteria", [])}
    return _render(
        request, "patient.html", patient=patient, result=result, planned=planned, problem=problem,
        as_of_value=as_of or "", events=events,
        alert_links=[(a.pk, a.created_at, change_said(a.from_status, a.to_status)) for a in alerts]
        if caller.role in ("coordinator", "admin") else [],
        todos=worklist.todos(result or {}), blocking=worklist.blocking(result or {}),
        timed=worklist.timed(result or {}), window=worklist.window(result or {}), verdicts=verdicts,
        attested=ATTESTED if caller.role == "investigator" else [],
        may_record_consent=caller.role in ("coordinator", "investigator", "admin"),
        **records,
    )


def _timeline(history, alerts: list[Alert], stopped_at: datetime | None, name) -> list[worklist.Event]:
    """Status changes, alerts (opening to the criteria that changed, by ``name``) and their
    acknowledgements, and the consent stop, newest first."""
    events = worklist.status_changes([tuple(h) for h in history])
    for alert in alerts:
        change = change_said(alert.from_status, alert.to_status)
        changed = tuple(f"{name(cid)} ({cid})" for cid in alert.changed or ())
        events.append(worklist.Event(alert.created_at, f"alert raised: {change}"
                                     + (f", {len(changed)} criteria changed" if len(changed) > 1 else ""), changed))
        if alert.acknowledged_at:
            events.append(worklist.Event(alert.acknowledged_at,
                                         f"alert {alert.pk} acknowledged by {alert.acknowledged_by}"))
    if stopped_at:
        events.append(worklist.Event(stopped_at, "alerts stopped: consent refused or withdrawn"))
    return sorted(events, key=lambda e: e.at, reverse=True)


def _judged(request: Request, handler, command) -> None:
    """Record what the form says through its use case (``service.judgements``), under the same
    identity and authority checks as the API (contract §13)."""
    rt = request.app.state.rt
    try:
        handler(command, rt.uow(), clock=rt.clock, dispatch=rt.dispatch, protocol=rt.protocol)
    except NotFound as exc:
        raise PageError(404, str(exc)) from exc
    except Invalid as exc:
        raise PageError(400, f"The form could not be recorded: {exc}") from exc
    except Refused as exc:
        raise PageError(exc.refusal.http_status, f"The form could not be recorded: {exc.refusal.explanation}.") \
            from exc


@router.post("/patients/{patient_id}/attest")
async def attest(request: Request, patient_id: str, caller: Caller = Depends(role("investigator", admin=False))):
    """One form, several attestations: ``verdict-<id>`` (pass, fail, or empty to leave it),
    ``why-<id>`` and ``reason-<id>`` for each criterion, ``justification`` for those without their
    own. A form naming one ``criterion`` (its ``verdict``, ``justification``, ``reason``) still works."""
    form = await request.form()
    check_csrf(request, _field(form, "csrf"))
    command = RecordAttestations(patient_id, _judgements(form), caller, _field(form, "justification"))
    await run_in_threadpool(_judged, request, judgements.record_attestations, command)
    return _see_other(f"/ui/patients/{patient_id}?done=attested")


def _field(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _judgements(form) -> tuple[Judgement, ...]:
    if _field(form, "criterion"):
        return (Judgement(_field(form, "criterion"), _field(form, "verdict"), _field(form, "justification"),
                          _field(form, "reason")),)
    return tuple(
        Judgement(cid, verdict, _field(form, f"why-{cid}"), _field(form, f"reason-{cid}"))
        for cid, verdict in ((key.removeprefix("verdict-"), _field(form, key)) for key in form.keys()
                             if key.startswith("verdict-"))
        if verdict  # left as it is
    )


@router.post("/patients/{patient_id}/consent")
def consent(request: Request, patient_id: str, decision: str = Form(""), csrf: str = Form(""),
            caller: Caller = Depends(role("coordinator", "investigator"))):
    check_csrf(request, csrf)
    _judged(request, judgements.record_consent_decision, RecordConsentDecision(patient_id, decision, caller))
    return _see_other(f"/ui/patients/{patient_id}?done=consent")


# --- alerts and audit -------------------------------------------------------------------------------


@router.get("/alerts")
def alerts_page(request: Request, caller: Caller = Depends(role("coordinator"))):
    rt = request.app.state.rt
    with rt.uow() as uow:
        rows = views.alerts_with_status(uow.session, caller, limit=500)
        windows = views.alert_windows(uow.session, [row[0].screening_pk for row in rows])
        audit.record(uow.session, caller.name, "view-alerts", f"Site/{caller.site_label}", rt.clock.now())
        uow.commit()
        open_alerts = [row for row in rows if row[0].acknowledged_at is None]
        done = [row for row in rows if row[0].acknowledged_at is not None]
        return _render(request, "alerts.html", open_alerts=open_alerts, done=done, windows=windows)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(request: Request, alert_id: int, csrf: str = Form(""),
                caller: Caller = Depends(role("coordinator"))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    try:
        alerts.acknowledge_alert(AcknowledgeAlert(alert_id, caller), rt.uow(), clock=rt.clock)
    except NotFound as exc:
        raise PageError(404, f"No alert {alert_id} for this site.") from exc
    return _see_other("/ui/alerts?done=acknowledged")


@router.get("/audit")
def audit_page(request: Request, caller: Caller = Depends(role("admin"))):
    rt = request.app.state.rt
    with rt.uow() as uow:
        entries = [(e.at, e.actor, e.action, e.target) for e in audit.latest(uow.session, 300)]
        audit.record(uow.session, caller.name, "view-audit", None, rt.clock.now())
        uow.commit()
    return _render(request, "audit.html", entries=entries)


async def _page_error(request: Request, exc: PageError):
    if exc.status == 401:
        return _see_other("/ui/login")
    return _render(request, "error.html", exc.status, status=exc.status, message=exc.message)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their HTML errors to ``app``."""
    app.state.sign_in_throttle = SignInThrottle()
    from web import trial_pages

    app.include_router(router)
    app.include_router(trial_pages.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(PageError, _page_error)
