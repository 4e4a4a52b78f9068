"""Shared fixtures. Real-service fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import pytest

from config.protocol_files import load_protocol


@pytest.fixture(scope="session")
def protocol():
    return load_protocol()
