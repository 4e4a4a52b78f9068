"""The HTTP layer over an embedded SQLite store, in process; tasks run as plain functions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.inprocess import bearer, make_runtime, make_tokens, run_pending
from web.app import create_app

__all__ = ["run_pending"]


@pytest.fixture()
def rt(tmp_path):
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def client(rt):
    with TestClient(create_app(rt), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def tokens(rt):
    return {key: bearer(token) for key, token in make_tokens(rt).items()}
