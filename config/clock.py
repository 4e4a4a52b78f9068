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
        """The real instant, in UTC: what orders and expires things (storage, retries, sessions) and
        what other systems check (webhook signatures, mail dates). ``MYOCIT_TODAY`` never moves it."""
        return datetime.now(timezone.utc)

    def now_on_screening_day(self) -> datetime:
        """Now at the sites' time zone, on the screening day: what dates a clinical record made here
        (an attestation, a consent decision), so that a rehearsal fixing ``MYOCIT_TODAY`` dates it on
        the day it rehearses, neither in the future nor stale for the screening it settles."""
        local = self.now().astimezone(self._zone)
        day = self.today()
        return local.replace(year=day.year, month=day.month, day=day.day, microsecond=0)

    def today(self) -> date:
        """The screening date: fixed by ``MYOCIT_TODAY``, else the date at the sites' time zone."""
        return self._fixed or datetime.now(self._zone).date()
