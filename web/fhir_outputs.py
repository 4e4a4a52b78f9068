"""FHIR for the trial's other systems (contract §16): ResearchStudy, ResearchSubject, the topic and
Subscription (R5 Backport IG, R4). Thin adapters: read the request, build a command, call the handler,
answer FHIR JSON. Registered before the intake routes, whose ``POST /fhir/{type}`` takes the rest."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from domain import research as shapes
from domain.identity import Caller
from ingest.bounds import json_depth_exceeds
from service import fhir_subscriptions, research
from service.commands import (CreateFhirSubscription, DeleteFhirSubscription, ReadFhirEvents, ReadFhirSubscription,
                              ReadResearchSubject, SearchResearchSubjects)
from service.errors import Invalid, NotFound
from web.api import _body
from web.auth import require
from web.openapi import answers, body, content
from web.outcomes import FHIR_JSON
from web.request_checks import fhir_body

router = APIRouter(tags=["fhir outputs"])
READERS = ("coordinator", "investigator")
"""Who reads the FHIR outputs (and admins): callers of the children's sites; never a monitor (§17)."""
SUBSCRIBERS = ("coordinator",)


def _fhir(resource: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type=FHIR_JSON)


@router.get("/fhir/ResearchStudy/{study_id}", summary="The MYOCIT study as a FHIR ResearchStudy",
            responses={200: content(FHIR_JSON, "ResearchStudy/myocit"), **answers(404)})
def read_study(study_id: str, caller: Caller = Depends(require(*READERS))):
    if study_id != shapes.STUDY_ID:
        raise NotFound("the study is ResearchStudy/myocit")
    return _fhir(shapes.research_study())


@router.get("/fhir/Basic/{topic_id}", summary="The eligibility-changed topic, in its R4 form (Basic)",
            responses={200: content(FHIR_JSON, "The SubscriptionTopic as a Basic"), **answers(404)})
def read_topic(topic_id: str, caller: Caller = Depends(require(*READERS))):
    if topic_id != shapes.TOPIC_ID:
        raise NotFound("the topic is Basic/eligibility-changed")
    return _fhir(shapes.topic())


_LAST_UPDATED = "_lastUpdated: gt, ge, lt or le, then an instant with its offset (gt2026-12-01T00:00:00Z)"


def _last_updated(text: str | None) -> tuple[str, datetime] | None:
    if text is None:
        return None
    prefix, rest = text[:2], text[2:]
    if prefix not in ("gt", "ge", "lt", "le"):
        raise Invalid(_LAST_UPDATED)
    try:
        moment = datetime.fromisoformat(rest.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(_LAST_UPDATED) from None
    if moment.tzinfo is None or not 1900 <= moment.year <= 2200:
        raise Invalid(_LAST_UPDATED + ", between 1900 and 2200")
    return prefix, moment


@router.get("/fhir/ResearchSubject", summary="The children of the caller's sites as ResearchSubjects (searchset)",
            responses={200: content(FHIR_JSON, "A searchset Bundle, with a next link while more remain"),
                       **answers(400)})
def search_subjects(request: Request, study: str | None = Query(None, max_length=100),
                    status: str | None = Query(None, max_length=200),
                    last_updated: str | None = Query(None, alias="_lastUpdated", max_length=64),
                    count: int = Query(50, alias="_count", ge=1, le=10**6),
                    offset: int = Query(0, alias="_offset", ge=0, le=10**9),
                    caller: Caller = Depends(require(*READERS))):
    rt = request.app.state.rt
    statuses = tuple(s for s in (status or "").split(",") if s)
    cmd = SearchResearchSubjects(caller, study, statuses, _last_updated(last_updated), min(count, research.MAX_COUNT),
                                 offset)
    return _fhir(research.search_subjects(cmd, rt.uow(), clock=rt.clock, base_url=rt.settings.base_url))


@router.get("/fhir/ResearchSubject/{subject_id}", summary="One child's ResearchSubject (its site's callers only)",
            responses={200: content(FHIR_JSON, "The ResearchSubject"), **answers(404)})
def read_subject(request: Request, subject_id: str, caller: Caller = Depends(require(*READERS))):
    rt = request.app.state.rt
    return _fhir(research.read_subject(ReadResearchSubject(subject_id, caller), rt.uow(), clock=rt.clock))


@router.post("/fhir/Subscription", status_code=201, summary="Subscribe to eligibility changes (rest-hook)",
             responses={201: content(FHIR_JSON, "The Subscription, 'requested'; the handshake follows"),
                        **answers(400, 403, 413, 415)},
             openapi_extra=body(FHIR_JSON, "application/json"), dependencies=[Depends(fhir_body)])
async def create_subscription(request: Request, caller: Caller = Depends(require(*SUBSCRIBERS))):
    raw = await _body(request)
    return await run_in_threadpool(_create, request, raw, caller)


def _create(request: Request, raw: bytes, caller: Caller):
    rt = request.app.state.rt
    try:
        resource = json.loads(raw)
    except (ValueError, RecursionError):
        raise Invalid("the body is not JSON") from None
    if json_depth_exceeds(resource):
        raise Invalid("the body nests JSON too deep")
    made = fhir_subscriptions.create_subscription(CreateFhirSubscription(resource, caller), rt.uow(), clock=rt.clock,
                                                  dispatch=rt.dispatch, base_url=rt.settings.base_url)
    response = _fhir(made, 201)
    response.headers["Location"] = f"{rt.settings.base_url.rstrip('/')}/fhir/Subscription/{made['id']}"
    return response


@router.get("/fhir/Subscription", summary="The FHIR subscriptions the caller sees (searchset)",
            responses={200: content(FHIR_JSON, "A searchset Bundle of Subscriptions")})
def search_subscriptions(request: Request, caller: Caller = Depends(require(*SUBSCRIBERS))):
    rt = request.app.state.rt
    return _fhir(fhir_subscriptions.search_subscriptions(caller, rt.uow(), now=rt.clock.now()))


@router.get("/fhir/Subscription/{subscription_id}", summary="A FHIR subscription (its headers are never shown)",
            responses={200: content(FHIR_JSON, "The Subscription"), **answers(404)})
def read_subscription(request: Request, subscription_id: str, caller: Caller = Depends(require(*SUBSCRIBERS))):
    rt = request.app.state.rt
    return _fhir(fhir_subscriptions.read_subscription(ReadFhirSubscription(subscription_id, caller), rt.uow()))


@router.delete("/fhir/Subscription/{subscription_id}", status_code=204, summary="End a FHIR subscription",
               responses=answers(404))
def delete_subscription(request: Request, subscription_id: str, caller: Caller = Depends(require(*SUBSCRIBERS))):
    rt = request.app.state.rt
    fhir_subscriptions.delete_subscription(DeleteFhirSubscription(subscription_id, caller), rt.uow(), clock=rt.clock)
    return Response(status_code=204)


@router.get("/fhir/Subscription/{subscription_id}/$status", summary="A FHIR subscription's status ($status)",
            responses={200: content(FHIR_JSON, "A searchset Bundle with the status Parameters"), **answers(404)})
def subscription_status(request: Request, subscription_id: str, caller: Caller = Depends(require(*SUBSCRIBERS))):
    rt = request.app.state.rt
    return _fhir(fhir_subscriptions.status_bundle(ReadFhirSubscription(subscription_id, caller), rt.uow(),
                                                  base_url=rt.settings.base_url, now=rt.clock.now()))


@router.get("/fhir/Subscription/{subscription_id}/$events", summary="A FHIR subscription's stored events ($events)",
            responses={200: content(FHIR_JSON, "A history Bundle (query-event) of the events asked"),
                       **answers(400, 404)})
def subscription_events(request: Request, subscription_id: str,
                        since: int | None = Query(None, alias="eventsSinceNumber", ge=1, le=2**62),
                        until: int | None = Query(None, alias="eventsUntilNumber", ge=1, le=2**62),
                        caller: Caller = Depends(require(*SUBSCRIBERS))):
    rt = request.app.state.rt
    cmd = ReadFhirEvents(subscription_id, caller, since, until)
    return _fhir(fhir_subscriptions.events_bundle(cmd, rt.uow(), base_url=rt.settings.base_url, now=rt.clock.now()))
