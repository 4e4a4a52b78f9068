"""The real-part harnesses (tests/oidc_provider.py, tests/cds_client.py) skip on a developer machine
that lacks Node.js or cannot make healthchain's venv, and fail in CI (MYOCIT_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import subprocess

import pytest

from tests import cds_client, oidc_provider


@pytest.fixture()
def no_node(monkeypatch):
    monkeypatch.setattr(oidc_provider.shutil, "which", lambda name: None)


@pytest.fixture()
def venv_cannot_be_made(monkeypatch):
    def failing_run(command, **kwargs):
        raise subprocess.CalledProcessError(1, command, stderr="no network")

    monkeypatch.setattr(cds_client.subprocess, "run", failing_run)


def test_without_node_the_provider_tests_skip_on_a_developer_machine(no_node, monkeypatch):
    monkeypatch.delenv("MYOCIT_REQUIRE_SERVICES", raising=False)

    with pytest.raises(pytest.skip.Exception, match="node is not on PATH"):
        oidc_provider.ensure_installed()


def test_without_node_the_provider_tests_fail_in_ci(no_node, monkeypatch):
    monkeypatch.setenv("MYOCIT_REQUIRE_SERVICES", "1")

    with pytest.raises(pytest.fail.Exception, match="node is not on PATH"):
        oidc_provider.ensure_installed()


def test_without_healthchain_the_cds_client_tests_skip_on_a_developer_machine(
    venv_cannot_be_made, monkeypatch
):
    monkeypatch.delenv("MYOCIT_REQUIRE_SERVICES", raising=False)

    with pytest.raises(pytest.skip.Exception, match="make_venv.sh failed"):
        cds_client.ensure_venv()


def test_without_healthchain_the_cds_client_tests_fail_in_ci(venv_cannot_be_made, monkeypatch):
    monkeypatch.setenv("MYOCIT_REQUIRE_SERVICES", "1")

    with pytest.raises(pytest.fail.Exception, match="make_venv.sh failed"):
        cds_client.ensure_venv()
