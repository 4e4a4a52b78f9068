"""A FHIR subscriber's rest-hook endpoint for tests (contract §16): a small HTTP server in a thread
that keeps every notification, answers 500 to the event numbers it is told to refuse, and can hold an
event's request open until the test lets it go (to kill the sender mid-send)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fhir.resources.R4B import get_fhir_model_class


def valid(resource: dict) -> dict:
    """``resource`` validated by the fhir.resources R4B model of its type (R4B = R4 for these), with
    every resource of its entries."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        if "resource" in entry:
            valid(entry["resource"])
    return resource


def parameter(notification: dict, name: str):
    """A value of the status Parameters (the notification's first entry)."""
    for p in notification["entry"][0]["resource"]["parameter"]:
        if p["name"] == name:
            return next(v for k, v in p.items() if k.startswith("value"))
    return None


def event_part(notification: dict, name: str, index: int = 0):
    events = [p for p in notification["entry"][0]["resource"]["parameter"] if p["name"] == "notification-event"]
    part = next(p for p in events[index]["part"] if p["name"] == name)
    return next(v for k, v in part.items() if k.startswith("value"))


@dataclass
class Hook:
    url: str = ""
    answer: int = 200
    received: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    refused: int = 0
    refuse_events: set[int] = field(default_factory=set)
    """Event numbers answered 500 (as a receiver down while they were being sent)."""
    hold_event: int | None = None
    """An event number whose request is kept open (recorded as received) until ``release`` is set."""
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def of_type(self, kind: str) -> list[dict]:
        return [b for b in list(self.received) if parameter(b, "type") == kind]

    def numbers(self) -> list[int]:
        return [int(event_part(b, "event-number")) for b in self.of_type("event-notification")]


@contextmanager
def running_hook():
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            notification = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            number = int(event_part(notification, "event-number")) \
                if parameter(notification, "type") == "event-notification" else None
            answer = 500 if number in state.refuse_events else state.answer
            if answer >= 300:
                state.refused += 1
            else:
                state.received.append(notification)
                state.headers.append(dict(self.headers))
            if number is not None and number == state.hold_event and not state.release.is_set():
                state.holding.set()
                state.release.wait(60)
            try:
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender is gone (killed mid-send)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notifications"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
