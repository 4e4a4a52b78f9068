"""Migrations over data already stored, on PostgreSQL (the SQLite runs are in tests/unit)."""

from __future__ import annotations

import pytest

from tests import services
from tests.unit.test_migration_screened_version import migrate_and_read

pytestmark = pytest.mark.services


def test_each_child_keeps_the_version_of_its_latest_screening_on_postgres():
    name, url = services.create_database()
    try:
        assert migrate_and_read(url) == [("p-1", "myocit-2027-01"), ("p-2", "myocit-2026-11"), ("p-3", None)]
    finally:
        services.drop_database(name)


def test_the_first_copy_of_each_message_takes_its_keys_on_postgres():
    from tests.unit.test_migration_intake_keys import EXPECTED
    from tests.unit.test_migration_intake_keys import migrate_and_read as migrate_messages

    name, url = services.create_database()
    try:
        assert migrate_messages(url) == EXPECTED
    finally:
        services.drop_database(name)


def test_migration_0010_keeps_stored_rows_and_confirmations_unchangeable_on_postgres():
    from tests.unit.test_migration_window import migrate_and_read as migrate_0010

    name, url = services.create_database()
    try:
        assert migrate_0010(url) == {
            "screening": ("eligible", None), "alert": ("incomplete", "eligible"),
            "confirmation": ("abc", None), "new candidate": 1}
    finally:
        services.drop_database(name)


def test_a_stored_activation_gets_the_criteria_names_on_postgres():
    from config.protocol_files import load_protocol_files
    from tests.unit.test_migration_criteria_wording import migrate_and_load

    name, url = services.create_database()
    try:
        files = migrate_and_load(url)
    finally:
        services.drop_database(name)
    assert load_protocol_files("myocit-2026-11", files).criterion_name("EXC-VTE-RISK") == \
        "High risk of venous thrombosis"


def test_migration_0014_rewrites_audit_rows_before_they_become_unchangeable_on_postgres():
    from tests.unit.test_migration_data_protection import migrate_and_read as migrate_0014

    name, url = services.create_database()
    try:
        read = migrate_0014(url)
    finally:
        services.drop_database(name)
    ids = read["ids"]
    assert [row[2] for row in read["rows"]] == [ids["p-1"], ids["p-2"], None, None]
    assert "p-1" not in repr(read["rows"]) and "p-2" not in repr(read["rows"])
