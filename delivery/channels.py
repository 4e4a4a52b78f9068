"""Send one alert on one subscription's channel."""

from __future__ import annotations

from datetime import datetime

from config.settings import Settings
from delivery.email import send_email
from delivery.errors import DeliveryError
from delivery.messages import AlertContent, Message, build
from delivery.webhook import post


def send(channel: str, target: str, secret: str | None, message: Message, *, settings: Settings,
         now: datetime, delivery_id: str) -> None:
    if channel == "email":
        send_email(message, target, settings, delivery_id=delivery_id)
    elif channel == "webhook" and secret:
        post(message, target, secret, now=now, timeout=settings.webhook_timeout_seconds, delivery_id=delivery_id)
    else:
        raise DeliveryError(f"cannot send on channel {channel!r}")


def attempt(channel: str, target: str, secret: str | None, content: AlertContent, *, settings: Settings,
            now: datetime, delivery_id: str) -> str | None:
    """Send, and say what went wrong (None when the channel accepted the message)."""
    try:
        send(channel, target, secret, build(content, settings.base_url), settings=settings, now=now,
             delivery_id=delivery_id)
    except DeliveryError as exc:
        return str(exc)
    return None
