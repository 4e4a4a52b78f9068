"""Delivery against real local servers: an SMTP server (aiosmtpd) and a webhook receiver (http.server),
with the API and the tasks in process over SQLite (tasks run as plain functions)."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from config.clock import Clock
from config.settings import Settings
from delivery.webhook import DELIVERY_ID_HEADER, HEADER, verify
from tests.inprocess import make_runtime
from tests.processes import free_port

BASE_URL = "https://screening.example.org"


class MovableClock(Clock):
    """The real clock, moved forward on demand, so retries come due without waiting."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.offset = timedelta()

    def now(self) -> datetime:
        return super().now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Mail:
    sender: str
    to: list[str]
    raw: str
    subject: str
    text: str


class Inbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, _server, _session, envelope):
        raw = envelope.content.decode("utf-8", "replace")
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), raw, str(parsed["Subject"]),
                               parsed.get_content()))
        return "250 OK"


@pytest.fixture()
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@dataclass
class Receiver:
    """A site's system: verifies each request's signature, answers ``answer`` to the good ones."""

    url: str = ""
    secret: str = ""
    answer: int = 204
    accepted: list[dict] = field(default_factory=list)
    refused: int = 0
    failed: int = 0
    delivery_ids: list[str] = field(default_factory=list)
    """The delivery id of every signed request, answered or failed."""
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@pytest.fixture()
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not verify(state.secret, self.headers.get(HEADER, ""), body, state.clock()):
                state.refused += 1
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            state.delivery_ids.append(self.headers.get(DELIVERY_ID_HEADER, ""))
            if state.answer >= 300:
                state.failed += 1
                self.send_response(state.answer)
            else:
                state.accepted.append(json.loads(body))
                self.send_response(state.answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/myocit-alerts"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def rt(tmp_path, smtp):
    settings = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="myocit@screening.example.org",
                    base_url=BASE_URL, webhook_timeout_seconds=3)
    runtime = make_runtime(tmp_path, clock=MovableClock(Settings(home=tmp_path, today="2026-12-01", **settings)),
                           **settings)
    yield runtime
    runtime.dispose()
