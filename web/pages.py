"""The coordinators' and investigators' pages under /ui: worklist, patient, alerts, audit.

Pages read through the service layer (``service.pages``: the read models of ``store.views``, audited)
and act only through it: an attestation or a consent decision is ``service.judgements``, which stores
it as a FHIR message through the same path as a lab's, so the patient is re-evaluated by a worker
exactly as after a lab result. Like the API, a page shows a child's screening only as it was stored
(contract §5.1). Only screening ids are shown: never names, identifiers or birth dates. What a use
case refuses is shown by ``web.errors``.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from config import language
from domain.criteria import CRITERIA
from ingest.bounds import date_in_range
from service import alerts, judgements, oidc, pages, screenings, sessions
from service.commands import AcknowledgeAlert, Judgement, RecordAttestations, RecordConsentDecision, ScreenAsOf
from store import views
from store.models import Alert
from domain.identity import Caller
from web import oidc_pages, trial_pages, worklist
from web.signin_page import address_of, login_page
from web.page_kit import N_, render, see_other
from web.session import (
    COOKIE,
    LOGIN_COOKIE,
    MAX_AGE,
    PAGE_ROLES,
    check_csrf,
    login_csrf,
    login_value,
    new_csrf,
    same,
    session_cookie,
    signed_in,
)
from web.session import page_caller as role

router = APIRouter(prefix="/ui", include_in_schema=False)
ATTESTED = [c for c in CRITERIA if c.attested]


# --- signing in -------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request):
    if signed_in(request) is not None:
        return see_other("/ui")
    return login_page(request)


@router.post("/login")
async def login(request: Request, token: str = Form(""), csrf: str = Form("")):
    if not request.app.state.rt.settings.token_signin_offered:
        return login_page(request, language.gettext("Signing in with a token is not offered here: use the hospital account."), 403)
    if not same(login_csrf(request), csrf):
        return login_page(request, language.gettext("The sign-in form expired. Please paste your token again."), 403)
    rt = request.app.state.rt
    attempt = await run_in_threadpool(sessions.sign_in, token, address_of(request), rt.uow(), clock=rt.clock)
    if attempt.refused == "unknown":
        # Slowed, and more so with every failure from the same address (contract §13).
        await asyncio.sleep(request.app.state.sign_in_throttle.failed(address_of(request)))
        return login_page(request, language.gettext("This token is unknown or revoked."), 401)
    if attempt.refused == "role":
        return login_page(request, language.gettext(sessions.MONITOR_REFUSAL) if attempt.role == "monitor"
                          else language.gettext("A {role} token cannot sign in to these pages.").format(
                              role=language.gettext(attempt.role or "")), 403)
    response = see_other("/ui")
    response.set_cookie(COOKIE, session_cookie(request, attempt.session_id), max_age=MAX_AGE, path="/ui",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), caller: Caller = Depends(role(*PAGE_ROLES))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    id_token = sessions.ended_session_id_token(getattr(request.state, "session_id", None), caller, rt.uow(),
                                               clock=rt.clock)
    provider = oidc_pages.provider_of(request)
    at_provider = oidc.signed_out_url(provider, id_token) if provider is not None and id_token else None
    response = (oidc_pages.continue_to(at_provider, N_("Signing out"), N_("Sign out at the hospital's sign-in service"))
                if at_provider else see_other("/ui/login?done=signed-out"))
    response.delete_cookie(COOKIE, path="/ui")
    return response


# --- worklist ---------------------------------------------------------------------------------------


@router.get("")
def worklist_page(request: Request, caller: Caller = Depends(role(*PAGE_ROLES))):
    rt = request.app.state.rt
    groups: dict[str, list[dict]] = {status: [] for status in (*worklist.STATUSES, "pending")}
    for entry in pages.worklist(caller, rt.uow(), clock=rt.clock):
        patient, screening = entry.patient, entry.screening
        if screening is None:
            groups["pending"].append({"id": patient.id, "site": patient.site})
            continue
        result = language.screening_in(screening.result, screening.reasons, language.current())
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
    return render(request, "worklist.html", groups=groups, today=rt.clock.today())


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: str, as_of: str | None = Query(None),
                 caller: Caller = Depends(role(*PAGE_ROLES))):
    rt = request.app.state.rt
    planned, problem = _planned(as_of)
    if planned is not None:
        result = screenings.screen_as_of(ScreenAsOf(patient_id, caller, planned), rt.uow(), protocol=rt.protocol,
                                         clock=rt.clock, language=language.current())
    found = pages.patient_file(patient_id, caller, rt.uow(), clock=rt.clock)
    row, stored = found.patient, found.stored
    if planned is None:
        result = stored.in_language(language.current()) if stored is not None else None
    lang = language.current()
    name = lambda cid: rt.protocol.criterion_name(cid, lang)  # noqa: E731
    records = trial_pages.patient_records(found, caller, name)
    events = _timeline(found.history, found.alerts, row.alerts_stopped_at, name) + records.pop("record_events")
    patient = {"id": row.id, "site": row.site, "stopped": row.alerts_stopped_at,
               "pending": views.is_pending(row), "screened_at": stored.screened_at if stored else None,
               "age": worklist.age(row.birth_date, planned or row.as_of or rt.clock.today())}
    verdicts = {c["id"]: c["verdict"] for c in (result or {}).get("criteria", [])}
    return render(
        request, "patient.html", patient=patient, result=result, planned=planned, problem=problem,
        as_of_value=as_of or "", events=sorted(events, key=lambda e: views.utc(e.at), reverse=True),
        alert_links=[(a.pk, a.created_at, language.change(a.from_status, a.to_status, language.current())) for a in found.alerts]
        if caller.role in ("coordinator", "admin") else [],
        todos=worklist.todos(result or {}), blocking=worklist.blocking(result or {}),
        timed=worklist.timed(result or {}), window=worklist.window(result or {}), verdicts=verdicts,
        attested=ATTESTED if caller.role == "investigator" else [],
        may_record_consent=caller.role in ("coordinator", "investigator", "admin"),
        **records,
    )


def _planned(as_of: str | None) -> tuple[date | None, str | None]:
    """The day the patient page is asked to screen for (``?as_of=``), or why it cannot be."""
    if not as_of:
        return None, None
    try:
        planned = date.fromisoformat(as_of)
    except ValueError:
        return None, language.gettext("That is not a date: use YYYY-MM-DD.")
    if not date_in_range(planned):
        return None, language.gettext("Choose a date between 1900-01-01 and 2200-12-31.")
    return planned, None


def _timeline(history, alerts: list[Alert], stopped_at: datetime | None, name) -> list[worklist.Event]:
    """Status changes, alerts (opening to the criteria that changed, by ``name``) and their
    acknowledgements, and the consent stop, newest first."""
    _ = language.gettext
    events = worklist.status_changes([tuple(h) for h in history])
    for alert in alerts:
        change = language.change(alert.from_status, alert.to_status, language.current())
        changed = tuple(f"{name(cid)} ({cid})" for cid in alert.changed or ())
        raised = (_("alert raised: {change}, {count} criteria changed") if len(changed) > 1
                  else _("alert raised: {change}")).format(change=change, count=len(changed))
        events.append(worklist.Event(alert.created_at, raised, changed))
        if alert.acknowledged_at:
            events.append(worklist.Event(alert.acknowledged_at, _("alert {id} acknowledged by {person}").format(
                id=alert.pk, person=alert.acknowledged_by)))
    if stopped_at:
        events.append(worklist.Event(stopped_at, _("alerts stopped: consent refused or withdrawn")))
    return sorted(events, key=lambda e: e.at, reverse=True)


def _judged(request: Request, handler, command) -> None:
    """Record what the form says through its use case (``service.judgements``), under the same
    identity and authority checks as the API (contract §13)."""
    rt = request.app.state.rt
    handler(command, rt.uow(), clock=rt.clock, dispatch=rt.dispatch, protocol=rt.protocol)


@router.post("/patients/{patient_id}/attest")
async def attest(request: Request, patient_id: str, caller: Caller = Depends(role("investigator", admin=False))):
    """One form, several attestations: ``verdict-<id>`` (pass, fail, or empty to leave it),
    ``why-<id>`` and ``reason-<id>`` for each criterion, ``justification`` for those without their
    own. A form naming one ``criterion`` (its ``verdict``, ``justification``, ``reason``) still works."""
    form = await request.form()
    check_csrf(request, _field(form, "csrf"))
    command = RecordAttestations(patient_id, _judgements(form), caller, _field(form, "justification"))
    await run_in_threadpool(_judged, request, judgements.record_attestations, command)
    return see_other(f"/ui/patients/{patient_id}?done=attested")


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
    return see_other(f"/ui/patients/{patient_id}?done=consent")


# --- alerts and audit -------------------------------------------------------------------------------


@router.get("/alerts")
def alerts_page(request: Request, caller: Caller = Depends(role("coordinator"))):
    rt = request.app.state.rt
    board = pages.alert_board(caller, rt.uow(), clock=rt.clock)
    open_alerts = [row for row in board.rows if row[0].acknowledged_at is None]
    done = [row for row in board.rows if row[0].acknowledged_at is not None]
    return render(request, "alerts.html", open_alerts=open_alerts, done=done, windows=board.windows)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(request: Request, alert_id: int, csrf: str = Form(""),
                caller: Caller = Depends(role("coordinator"))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    alerts.acknowledge_alert(AcknowledgeAlert(alert_id, caller), rt.uow(), clock=rt.clock)
    return see_other("/ui/alerts?done=acknowledged")


@router.get("/audit")
def audit_page(request: Request, caller: Caller = Depends(role("admin"))):
    rt = request.app.state.rt
    return render(request, "audit.html", entries=pages.audit_trail(caller, rt.uow(), clock=rt.clock))
