"""FHIR notifications by rest-hook (Subscriptions Backport IG, R4): a notification Bundle POSTed as
``application/fhir+json`` to the subscription's endpoint, with the headers it asked for. A 2xx is
delivered; anything else, or no answer, is a ``DeliveryError`` naming the status only."""

from __future__ import annotations

import json

import httpx

from delivery.errors import DeliveryError

FHIR_JSON = "application/fhir+json"


def header_pairs(headers: list[str]) -> dict[str, str]:
    """``channel.header`` values (``Name: value``) as headers; ones that do not read so are left out."""
    pairs = {}
    for line in headers:
        name, sep, value = line.partition(":")
        if sep and name.strip() and "\n" not in line and "\r" not in line:
            pairs[name.strip()] = value.strip()
    return pairs


def post(bundle: dict, endpoint: str, headers: list[str], *, timeout: float) -> None:
    body = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    sent = {**header_pairs(headers), "Content-Type": FHIR_JSON, "User-Agent": "myocit-subscriptions"}
    try:
        response = httpx.post(endpoint, content=body, headers=sent, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DeliveryError(f"endpoint unreachable: {type(exc).__name__}") from exc
    if not response.is_success:
        raise DeliveryError(f"endpoint answered {response.status_code}")
