"""The real-part harnesses (tests/oidc_provider.py, tests/cds_client.py) skip on a developer machine
that lacks Node.js or cannot make healthchain's venv, and fail in CI (MYOCIT_REQUIRE_SERVICES=1); the
in-process command runner and the migrated-once database are what they stand for."""

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


def test_a_command_in_process_sees_only_the_settings_it_is_given_and_leaves_the_tests_runtime(
        tmp_path, monkeypatch):
    """``testkit.cli.myocit`` runs a command as a fresh process would: the caller's ``MYOCIT_*`` variables
    are not the command's, and the process-wide runtime and environment are as they were afterwards."""
    import os
    import re

    import bootstrap
    from testkit import cli

    monkeypatch.setenv("MYOCIT_TIMEZONE", "America/New_York")
    before = bootstrap._runtime
    home = {"MYOCIT_HOME": str(tmp_path)}
    made = cli.myocit("token", "create", "--role", "admin", "--name", "first admin", env=home)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("myo_") and "new home" in made.stderr
    listed = cli.myocit("token", "list", env=home)
    assert "first admin" in listed.stdout and re.search(r"\d\d:\d\d CES?T\t", listed.stdout)
    refused = cli.myocit("token", "revoke", "999", env=home)
    assert refused.returncode == 2 and "no token 999" in refused.stderr
    assert bootstrap._runtime is before and os.environ["MYOCIT_TIMEZONE"] == "America/New_York"


def test_a_copied_database_is_the_one_the_migrations_make(tmp_path):
    from sqlalchemy import create_engine, text

    from store.migrate import upgrade
    from testkit.schema import migrated_sqlite

    copied, migrated = tmp_path / "copied.sqlite", tmp_path / "migrated.sqlite"
    assert migrated_sqlite(copied)
    assert not migrated_sqlite(copied)  # an existing database is left to the migrations
    upgrade(f"sqlite:///{migrated}")

    def schema(path):
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            listed = connection.execute(text("SELECT type, name, sql FROM sqlite_master"))
            rows = [(kind, name, sorted(line.strip(" ,") for line in (sql or "").splitlines()))
                    for kind, name, sql in listed]
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        engine.dispose()
        return rows, version

    # (The migrations' table rebuilds may list a table's constraints in another order from run to run.)
    (copied_rows, copied_version), (migrated_rows, migrated_version) = schema(copied), schema(migrated)
    assert sorted(copied_rows) == sorted(migrated_rows) and copied_version == migrated_version
