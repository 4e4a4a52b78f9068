"""Shared fixtures. Real-service fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from config.protocol_files import load_protocol
from tests.inprocess import bearer, make_tokens
from web.app import create_app


@pytest.fixture(scope="session")
def protocol():
    return load_protocol()


@pytest.fixture()
def client(rt):
    """The HTTP service in process, over the ``rt`` of the test's folder."""
    with TestClient(create_app(rt), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def tokens(rt):
    """Authorization headers, one per test role (see ``tests.inprocess.ROLES``)."""
    return {key: bearer(token) for key, token in make_tokens(rt).items()}


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration and tests/e2e need the real services."""
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path or "/e2e/" in path:
            item.add_marker(pytest.mark.services)
