"""Where "today" comes from for stored screenings: the only clock of the service."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from config.settings import Settings


class Clock:
    def __init__(self, settings: Settings) -> None:
        self._fixed = settings.today
        self._zone = ZoneInfo(settings.timezone)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """The screening date: fixed by ``MYOCIT_TODAY``, else the date at the sites' time zone."""
        return self._fixed or datetime.now(self._zone).date()
