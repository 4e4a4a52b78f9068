"""Kept in ``testkit.fhir_samples`` (shared with the benchmarks); this name stays for the tests that import it."""

from testkit.fhir_samples import *  # noqa: F401,F403
