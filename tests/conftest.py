"""Shared fixtures. Real-service fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import pytest

from config.protocol_files import load_protocol


@pytest.fixture(scope="session")
def protocol():
    return load_protocol()


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration and tests/e2e need the real services."""
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path or "/e2e/" in path:
            item.add_marker(pytest.mark.services)
