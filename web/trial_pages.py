"""The trial's records on the pages (contract §8, §9): the screening log with its funnel and
per-criterion charts (SVG drawn on the server: the pages' CSP allows nothing from elsewhere), the
outcome and confirmation forms of the patient page, and the printable eligibility checklist.

Like every page, these read through the service layer (``service.pages``, ``service.screening_log``:
``store.views`` within the caller's sites) and act through it (``service.screening_log``,
``service.confirmations``); what a use case refuses is shown by ``web.errors``."""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from config import language
from domain.cds_cards import OVERRIDE_REASONS
from ingest.bounds import date_in_range
from service import confirmations, pages, screening_log
from service.commands import ConfirmEligibility, RecordOutcome
from store import views
from domain.identity import Caller
from web import worklist
from web.errors import failing_as
from web.page_kit import HEADERS, N_, PageError, render, see_other
from web.session import PAGE_ROLES, check_csrf
from web.session import page_caller as role

router = APIRouter(prefix="/ui", include_in_schema=False)
OUTCOME_LABELS = {"approached": N_("Approached"), "declined": N_("Declined"), "enrolled": N_("Enrolled"),
                  "not-approached": N_("Not approached")}
REASON_PREFIX = "Reason for change: "
COLUMN_LABELS = {"patient": N_("Patient"), "site": N_("Site"), "first_screened": N_("First screened"),
                 "status": N_("Status"), "status_since": N_("Status since"), "eligible_from": N_("Eligible from"),
                 "failing": N_("Failing"), "missing": N_("Missing"), "review": N_("Review"), "outcome": N_("Outcome"),
                 "outcome_date": N_("Outcome date"), "confirmed_at": N_("Confirmed at"),
                 "protocol_version": N_("Protocol version"), "eligible_until": N_("Eligible until")}
"""The screening log's columns (contract §8, the CSV's names) as the page heads them."""


# --- the patient page's part ------------------------------------------------------------------------


def patient_records(found: pages.PatientFile, caller: Caller, name=lambda cid: cid) -> dict:
    """What the patient page shows of the trial's records, and the timeline entries they add
    (``name``: a criterion's name for its id)."""
    outcomes, signed, attested, stored = found.outcomes, found.signatures, found.attestations, found.stored
    _ = language.gettext
    labels = {key: _(label) for key, label in OUTCOME_LABELS.items()}
    events = [worklist.Event(o.recorded_at, _("outcome recorded: {outcome} by {person}").format(
        outcome=labels.get(o.outcome, o.outcome), person=o.recorded_by)) for o in outcomes]
    events += [worklist.Event(c.signed_at, _("eligibility confirmed and signed by {person}").format(person=c.signer_name)
                              + ("" if valid else _(" (since overturned)"))) for c, valid in signed]
    events += [worklist.Event(at, _card_feedback(outcome, reason)) for at, outcome, reason in found.ehr_feedback]
    events += worklist.attestation_events(
        [worklist.Attested(at, criterion, verdict, performer, _reason_of(body, criterion))
         for at, criterion, verdict, performer, body in attested], name)
    result = stored.in_language(language.current()) if stored is not None else None
    signable = (result is not None and result.get("status") == "eligible" and not views.is_pending(found.patient))
    return {
        "outcomes": list(reversed(outcomes)), "outcome_labels": labels,
        "confirmations": signed, "may_confirm": caller.role == "investigator",
        "signable": signable, "attested_before": {c for _, c, _, _, page in attested if page is not None},
        "may_record_outcome": caller.role in ("coordinator", "investigator", "admin"),
        "record_events": events,
    }


def _card_feedback(outcome: str, reason: str | None) -> str:
    _ = language.gettext
    if outcome == "accepted":
        return _("Card in the EHR accepted")
    said = dict(OVERRIDE_REASONS).get(reason or "", reason)
    return _("Card in the EHR dismissed: {reason}").format(reason=_(said)) if said else _("Card in the EHR dismissed")


def _reason_of(body: str | None, criterion: str) -> str | None:
    """The reason for change a page's attestation of ``criterion`` carries (its note starting with
    REASON_PREFIX), in the Observation the form posted or in the Bundle of several it posted."""
    if not body:
        return None
    try:
        posted = json.loads(body)
        observations = ([(e or {}).get("resource") or {} for e in posted.get("entry") or []]
                        if posted.get("resourceType") == "Bundle" else [posted])
    except (ValueError, AttributeError, TypeError):
        return None
    for observation in observations:
        codes = [c.get("code") for c in ((observation.get("code") or {}).get("coding") or []) if isinstance(c, dict)]
        if criterion not in codes:
            continue
        for note in observation.get("note") or []:
            text = (note or {}).get("text", "") if isinstance(note, dict) else ""
            if text.startswith(REASON_PREFIX):
                return text[len(REASON_PREFIX):]
    return None


@router.post("/patients/{patient_id}/outcome")
def record_outcome(request: Request, patient_id: str, outcome: str = Form(""), reason: str = Form(""),
                   csrf: str = Form(""), caller: Caller = Depends(role("coordinator", "investigator"))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    screening_log.record_outcome(RecordOutcome(patient_id, outcome, reason, caller), rt.uow(), clock=rt.clock)
    return see_other(f"/ui/patients/{patient_id}?done=outcome")


@router.post("/patients/{patient_id}/confirmation", dependencies=[failing_as("Not signed")])
def confirm(request: Request, patient_id: str, as_of: str = Form(""), meaning: str = Form(""),
            reauth: str = Form(""), csrf: str = Form(""),
            caller: Caller = Depends(role("investigator", admin=False))):
    check_csrf(request, csrf)
    rt = request.app.state.rt
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise PageError(400, language.gettext("The confirmation needs the screening date (YYYY-MM-DD).")) from None
    confirmations.confirm_eligibility(ConfirmEligibility(patient_id, day, meaning, reauth, caller,
                                                                      language=language.current()), rt.uow(),
                                      clock=rt.clock)
    return see_other(f"/ui/patients/{patient_id}?done=confirmed")


@router.get("/patients/{patient_id}/checklist")
def checklist(request: Request, patient_id: str, caller: Caller = Depends(role(*PAGE_ROLES))):
    """The eligibility checklist to print: the 34 criteria of the latest stored screening, and the
    signature block of each confirmation of it."""
    rt = request.app.state.rt
    found = pages.checklist(patient_id, caller, rt.uow(), clock=rt.clock)
    row, stored = found.patient, found.stored
    patient = {"id": row.id, "site": row.site, "pending": views.is_pending(row),
               "screened_at": stored.screened_at if stored else None}
    result = stored.in_language(language.current()) if stored else None
    return render(request, "checklist.html", patient=patient, result=result,
                  confirmations=found.signatures)


# --- the screening log ------------------------------------------------------------------------------


def _filters(request: Request, caller: Caller):
    params = request.query_params
    problem, period = None, {}
    for key, name, not_a_date in (("from", "first_from", N_("The period's first day is not a date: use YYYY-MM-DD.")),
                                  ("to", "first_to", N_("The period's last day is not a date: use YYYY-MM-DD."))):
        value = params.get(key) or ""
        if value:
            try:
                day = date.fromisoformat(value)
                if not date_in_range(day):
                    raise ValueError
                period[name] = day
            except ValueError:
                problem = language.gettext(not_a_date)
    site = (params.get("site") or "").strip() or None
    if site is not None and not caller.sees_site(site):
        raise PageError(404, language.gettext("Site {site} is not one of yours.").format(site=site))
    return {"site": site, **period}, problem


@router.get("/screening-log")
def log_page(request: Request, caller: Caller = Depends(role("coordinator", "investigator"))):
    rt = request.app.state.rt
    chosen, problem = _filters(request, caller)
    rows = screening_log.screening_log_rows(caller, rt.uow(), clock=rt.clock, **chosen)
    funnel = screening_log.funnel(caller, rt.uow(), clock=rt.clock, **chosen)
    cards = screening_log.ehr_cards(caller, rt.uow(), site=chosen.get("site"))
    query = "&".join(f"{k}={v}" for k, v in (("site", chosen.get("site")), ("from", funnel["from"]),
                                                ("to", funnel["to"])) if v)
    _ = language.gettext
    return render(request, "screening_log.html", page="screening-log", rows=rows, funnel=funnel, cards=cards,
                  column_labels={c: _(COLUMN_LABELS.get(c, c)) for c in screening_log.COLUMNS},
                  steps=_steps(funnel), bars=_criterion_bars(funnel), problem=problem,
                  columns=screening_log.COLUMNS, csv_link="/ui/screening-log.csv" + (f"?{query}" if query else ""),
                  chosen={"from": request.query_params.get("from", ""), "to": request.query_params.get("to", ""),
                          "site": chosen.get("site") or ""})


@router.get("/screening-log.csv")
def log_csv(request: Request, caller: Caller = Depends(role("coordinator", "investigator"))):
    rt = request.app.state.rt
    chosen, problem = _filters(request, caller)
    if problem:
        raise PageError(400, problem)
    return Response(screening_log.screening_log_csv(caller, rt.uow(), clock=rt.clock, **chosen),
                    media_type="text/csv; charset=utf-8",
                    headers={**HEADERS, "Content-Disposition": 'attachment; filename="screening-log.csv"'})


def _steps(funnel: dict) -> list[dict]:
    """The funnel's four steps as bars of a width proportional to the children screened."""
    top = max(funnel["screened"], 1)
    return [{"label": label, "count": funnel[key], "width": round(100 * funnel[key] / top, 1), "y": 8 + i * 40}
            for i, (key, label) in enumerate((("screened", language.gettext("Screened")),
                                              ("eligible", language.gettext("Eligible")),
                                              ("approached", language.gettext("Approached")),
                                              ("enrolled", language.gettext("Enrolled"))))]


def _criterion_bars(funnel: dict) -> list[dict]:
    """Per criterion, the fail / unknown / review segments, stacked, scaled to the children screened."""
    top = max(funnel["screened"], 1)
    bars = []
    for i, c in enumerate(funnel["criteria"]):
        x, parts = 0.0, []
        for verdict in ("fail", "unknown", "review"):
            width = round(100 * c[verdict] / top, 2)
            parts.append({"verdict": verdict, "x": x, "width": width, "count": c[verdict]})
            x += width
        bars.append({"id": c["id"], "y": i * 22, "parts": parts, **{v: c[v] for v in ("fail", "unknown", "review")}})
    return bars
