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
        """Now, in UTC. With ``MYOCIT_TODAY`` fixed, the time of day on that day at the sites' time
        zone, so that what a rehearsal stores (screenings, attestations, alerts) is dated on the day
        it rehearses, never a day it has not reached yet."""
        real = datetime.now(timezone.utc)
        if self._fixed is None:
            return real
        local = real.astimezone(self._zone)
        return local.replace(year=self._fixed.year, month=self._fixed.month, day=self._fixed.day).astimezone(
            timezone.utc)

    def today(self) -> date:
        """The screening date: fixed by ``MYOCIT_TODAY``, else the date at the sites' time zone."""
        return self._fixed or datetime.now(self._zone).date()
