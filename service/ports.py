"""What the service layer needs from outside it, named by what it does, not by how."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Dispatcher(Protocol):
    """Sends work to the workers (Celery in production, a list in tests). Called after commit only;
    a send that fails loses nothing, since the sweeper re-sends stored work."""

    def evaluate(self, patient_pks: list[int], as_of: str | None = None) -> None: ...

    def deliver(self, alert_pks: list[int]) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def now_on_screening_day(self) -> datetime: ...

    def today(self) -> date: ...
