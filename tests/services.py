"""Kept in ``testkit.services`` (shared with the benchmarks); this name stays for the tests that import it."""

from testkit.services import *  # noqa: F401,F403
