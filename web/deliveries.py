"""Alert deliveries and the subscriptions they go to: failures visible and retryable."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from service import administration, deliveries
from service.commands import CreateSubscription, DeactivateSubscription, RetryDelivery
from domain.identity import Caller
from web.auth import require
from web.openapi import answers

router = APIRouter(tags=["deliveries"])


class NewSubscription(BaseModel):
    site: str = Field(min_length=1, max_length=64)
    channel: Literal["email", "webhook"]
    target: str = Field(min_length=3, max_length=500, description="An email address, or an http(s) URL.")
    language: Literal["fr", "en"] | None = Field(None, description="Of its emails and webhook text; default MYOCIT_LANGUAGE.")


@router.get("/deliveries", summary="Alert deliveries (a coordinator sees their site's), oldest first")
def list_deliveries(request: Request,
                    status: Literal["pending", "sent", "failed", "stopped"] | None = Query(None),
                    limit: int = Query(500, ge=1, le=5000),
                    caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    return deliveries.list_deliveries(caller, rt.uow(), status=status, limit=limit)


@router.post("/deliveries/{delivery_id}/retry", summary="Send a failed delivery again, with fresh attempts",
             responses=answers(404, 409))
def retry_delivery(request: Request, delivery_id: int, caller: Caller = Depends(require("coordinator"))):
    rt = request.app.state.rt
    found = deliveries.retry_delivery(RetryDelivery(delivery_id, caller), rt.uow(), clock=rt.clock,
                                      dispatch=rt.dispatch)
    return deliveries.delivery_json(*found)


@router.post("/subscriptions", status_code=201, responses=answers(400),
             summary="Subscribe a site to its alerts; a webhook's signing secret is shown only here")
def create_subscription(request: Request, body: NewSubscription, caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    made = administration.create_subscription(
        CreateSubscription(body.site, body.channel, body.target, caller.name, body.language), rt.uow(), clock=rt.clock)
    answer = administration.subscription_json(made.subscription)
    if made.secret:
        answer["secret"] = made.secret
    return answer


@router.get("/subscriptions", summary="Every site's subscriptions (secrets are never listed)")
def list_subscriptions(request: Request, caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    return administration.list_subscriptions(rt.uow())


@router.post("/subscriptions/{subscription_id}/deactivate", responses=answers(404),
             summary="Stop delivering a site's alerts to this subscription (kept for history)")
def deactivate_subscription(request: Request, subscription_id: int, caller: Caller = Depends(require("admin"))):
    rt = request.app.state.rt
    row = administration.deactivate_subscription(DeactivateSubscription(subscription_id, caller.name), rt.uow(),
                                                 clock=rt.clock)
    return administration.subscription_json(row)
