"""A stand-in for Celery in process: the tasks sent are remembered, for a test or a benchmark to run
them as a worker would."""

from __future__ import annotations


class Calls:
    """Stands in for Celery: remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list, dict]] = []
        self.headers: list[dict | None] = []

    def send_task(self, name, args=None, kwargs=None, headers=None, **_):
        self.sent.append((name, list(args or []), dict(kwargs or {})))
        self.headers.append(headers)
