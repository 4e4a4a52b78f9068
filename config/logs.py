"""Logging for every process: one line per event, plain or JSON (``MYOCIT_LOG_FORMAT=json``), each
carrying the ``request_id`` of the HTTP request or MLLP message that caused it, into the tasks and
deliveries it led to (contract §12). Log lines name row ids and kinds, never a name, a birth date or
a record number: callers pass no patient data, and this module adds none."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("myocit_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def clean_request_id(value: str | None) -> str | None:
    """A request id a caller sent (``X-Request-ID``), if it is a short token; anything else could carry
    data into the logs, and is replaced."""
    if value and len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value):
        return value
    return None


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None) or request_id.get()}
        if record.exc_info:
            # The kind only: a traceback's values may quote what was sent.
            line["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once per process (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_myocit", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._myocit = True  # type: ignore[attr-defined]
    handler.addFilter(_WithRequestId())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
