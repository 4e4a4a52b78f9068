"""Kept in ``testkit.mllp_client`` (shared with the benchmarks); this name stays for the tests that import it."""

from testkit.mllp_client import *  # noqa: F401,F403
