"""Alerts by webhook: a JSON POST signed the way Stripe signs its events.

``Myocit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``. Signing the timestamp
with the body lets a receiver refuse a captured request replayed later; ``verify`` is what a receiver
runs (several ``v1`` values are accepted, so a secret can be rotated).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import httpx

from delivery.errors import DeliveryError
from delivery.messages import Message

HEADER = "Myocit-Signature"
DELIVERY_ID_HEADER = "Myocit-Delivery-Id"
"""The same value on every attempt of one delivery: delivery is at least once, so a receiver drops a
request whose delivery id it has already handled."""


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: datetime | float, tolerance: int = 300) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and was made within ``tolerance`` seconds."""
    stamp, macs = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1":
            macs.append(value)
    if stamp is None or not macs:
        return False
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(seconds - stamp) > tolerance:
        return False
    expected = _mac(secret, stamp, body)
    return any(hmac.compare_digest(expected, mac) for mac in macs)


def post(message: Message, url: str, secret: str, *, now: datetime, timeout: float, delivery_id: str) -> None:
    body = message.body()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "myocit-alerts",
        HEADER: sign(secret, body, int(now.timestamp())),
        DELIVERY_ID_HEADER: delivery_id,
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from exc
    if not response.is_success:
        raise DeliveryError(f"webhook answered {response.status_code}")
