"""Kept in ``testkit.processes`` (shared with the benchmarks); this name stays for the tests that import it."""

from testkit.processes import *  # noqa: F401,F403
