"""One rule for the times a person reads, on the pages and from the command line: at the sites' time
zone (MYOCIT_TIMEZONE), the zone named; a time a person types without an offset is at that zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from config.clock import Clock
from config.settings import Settings
from testkit import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("zone, moment, seconds, shown", [
    ("Europe/Paris", datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), False, "2026-12-01 09:30 CET"),
    ("Europe/Paris", datetime(2026, 7, 1, 8, 30, tzinfo=timezone.utc), False, "2026-07-01 10:30 CEST"),
    ("Europe/Paris", datetime(2026, 12, 31, 23, 30, 5), True, "2027-01-01 00:30:05 CET"),  # naive: UTC, as stored
    ("Europe/Paris", datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=1))), False, "2026-12-01 09:30 CET"),
    ("UTC", datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), False, "2026-12-01 08:30 UTC"),
])
def test_a_time_is_shown_at_the_sites_zone_with_the_zone_named(zone, moment, seconds, shown):
    assert Clock(Settings(timezone=zone)).shown(moment, seconds=seconds) == shown


def test_a_time_typed_without_an_offset_is_at_the_sites_zone():
    clock = Clock(Settings(timezone="Europe/Paris"))
    assert clock.local(datetime(2026, 12, 1)) == datetime(2026, 11, 30, 23, tzinfo=timezone.utc)
    given = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    assert clock.local(given) is given


def test_the_command_line_lists_times_with_their_zone(tmp_path):
    env = {"MYOCIT_HOME": str(tmp_path)}

    def myocit(*args: str) -> str:
        done = cli.myocit(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    myocit("token", "create", "--role", "admin", "--name", "first admin")
    myocit("sender", "create", "--application", "LIS", "--facility", "NECKER", "--site", "necker")
    assert re.search(r"\tcreated \d{4}-\d\d-\d\d \d\d:\d\d CES?T\tactive$", myocit("token", "list"), re.M)
    assert re.search(r"\tcreated \d{4}-\d\d-\d\d \d\d:\d\d CES?T\tactive$", myocit("sender", "list"), re.M)
    env["MYOCIT_TIMEZONE"] = "America/New_York"
    assert re.search(r"\tcreated \d{4}-\d\d-\d\d \d\d:\d\d E[SD]T\tactive$", myocit("token", "list"), re.M)
