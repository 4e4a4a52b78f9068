"""Alerts by email: plain text over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from config.settings import Settings
from delivery.errors import DeliveryError
from delivery.messages import Message


def send_email(message: Message, to: str, settings: Settings) -> None:
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server configured (MYOCIT_SMTP_HOST)")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid("myocit-alert")
    mail.set_content(message.text)
    try:
        timeout = settings.webhook_timeout_seconds
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            smtp.send_message(mail)
    # The exception texts can echo the address or the server's banner: keep only the kind and code.
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP server answered {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP failed: {type(exc).__name__}") from exc
