"""The HTTP layer over an embedded SQLite store, in process; tasks run as plain functions."""

from __future__ import annotations

import pytest

from tests.inprocess import make_runtime, run_pending

__all__ = ["run_pending"]


@pytest.fixture()
def rt(tmp_path):
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()
