"""Alerts by email: plain text over SMTP, optionally over TLS (STARTTLS or implicit) with a login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from config.settings import Settings
from delivery.errors import DeliveryError
from delivery.messages import Message


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.webhook_timeout_seconds
    if settings.smtp_security == "none":
        return smtplib.SMTP(host, port, timeout=timeout)
    # The default context checks the certificate and the host name; a hospital relay signed by its own
    # CA is trusted through smtp_ca_file, never by turning the checks off.
    context = ssl.create_default_context(cafile=settings.smtp_ca_file)
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.starttls(context=context)
    except BaseException:
        # A QUIT on a half-negotiated connection would fail too and hide the TLS error: just hang up.
        smtp.close()
        raise
    return smtp


def send_email(message: Message, to: str, settings: Settings, *, delivery_id: str | None = None) -> None:
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server configured (MYOCIT_SMTP_HOST)")
    if settings.smtp_username and settings.smtp_security == "none":
        raise DeliveryError("refusing to send SMTP credentials without TLS (set MYOCIT_SMTP_SECURITY)")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid("myocit-alert")
    if delivery_id is not None:
        mail["Myocit-Delivery-Id"] = delivery_id
    mail.set_content(message.text)
    try:
        with _connect(settings) as smtp:
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(mail)
    # The exception texts can echo the address or the server's banner: keep only the kind and code.
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP server answered {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP failed: {type(exc).__name__}") from exc
