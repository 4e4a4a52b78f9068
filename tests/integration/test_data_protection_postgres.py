"""Data protection on PostgreSQL (contract §17): the same checks as ``tests/api/test_data_protection.py``
(objection, later data dropped on every path, purge, monitor, audit export and its trigger), with the
service in process over a real PostgreSQL database; and erased tables vacuumed after an erasure."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from bootstrap import Runtime, install
from config.settings import Settings
from testkit.celery_calls import Calls
from tests.api.test_data_protection import (  # noqa: F401 - collected here, over PostgreSQL
    objected,
    test_a_monitor_reads_pseudonyms_of_its_sites_and_nothing_else,
    test_a_purge_keeps_enrolled_children_and_every_log_row,
    test_an_objection_erases_everything_identifiable_and_keeps_the_other_childs_part,
    test_later_data_for_the_child_is_acknowledged_and_dropped_on_every_path,
    test_the_audit_export_covers_every_kind_of_action_and_rows_cannot_change,
    world,
)
from tests.api.test_erasure_crash import test_a_process_killed_during_an_erasure_leaves_the_child_whole  # noqa: F401
from tests.inprocess import bearer, make_tokens
from web.app import create_app

pytestmark = pytest.mark.services


@pytest.fixture()
def rt(clean_db, tmp_path):
    settings = Settings(database_url=clean_db, home=Path(tmp_path), today="2026-12-01", dispatch_window_ms=0,
                        pseudonym_key="a-test-key-kept-outside-the-database")
    runtime = Runtime(settings, celery=Calls())
    install(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def client(rt):
    with TestClient(create_app(rt), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def tokens(rt):
    return {key: bearer(token) for key, token in make_tokens(rt).items()}


def test_erased_tables_are_vacuumed_after_an_objection(client, world, rt):
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(rt.engine, "before_cursor_execute", seen)
    try:
        objected(client, world)
    finally:
        event.remove(rt.engine, "before_cursor_execute", seen)
    vacuumed = {s.split('"')[1] for s in statements if s.startswith("VACUUM")}
    assert {"facts", "messages", "patients", "screenings", "patient_identifiers"} <= vacuumed


def test_without_a_key_a_configured_deployment_is_told_which_setting_to_set(client, world, rt):
    rt.settings.pseudonym_key = None
    rt.__dict__.pop("_keyring", None)
    response = client.post("/patients/dp-child-7/objection", json={}, headers=world["coordinator"])
    assert response.status_code == 503 and "MYOCIT_PSEUDONYM_KEY" in response.text
