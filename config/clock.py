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

    def shown(self, moment: datetime, *, seconds: bool = False) -> str:
        """How a time is shown to a person, on the pages and by the command line alike: at the sites'
        time zone, the zone named (``2026-12-01 09:30 CET``). A naive moment is UTC, as stored."""
        return shown(moment, self._zone, seconds=seconds)

    def local(self, moment: datetime) -> datetime:
        """A moment a person typed without an offset is at the sites' time zone."""
        return moment if moment.tzinfo else moment.replace(tzinfo=self._zone)

    def today(self) -> date:
        """The screening date: fixed by ``MYOCIT_TODAY``, else the date at the sites' time zone."""
        return self._fixed or datetime.now(self._zone).date()


def shown(moment: datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """``Clock.shown`` for a reader that holds only the zone (the pages' templates)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).strftime(f"%Y-%m-%d %H:%M{':%S' if seconds else ''} %Z")
