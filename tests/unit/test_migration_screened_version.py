"""Migration 0008: each child keeps the protocol version of its latest screening, taken from the
screenings already stored (SQLite here, PostgreSQL in tests/integration/test_migrations_postgres.py)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from store.migrate import upgrade


def migrate_and_read(url: str) -> list[tuple]:
    upgrade(url, "0007")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq) VALUES "
                          "('p-1', true, 2, 2), ('p-2', true, 1, 1), ('p-3', false, 0, 0)"))
        for patient, version in ((1, "myocit-2026-11"), (1, "myocit-2027-01"), (2, "myocit-2026-11")):
            conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, "
                              "result, fact_pks, trigger) VALUES (:p, '2026-12-01 10:00:00+00', '2026-12-01', "
                              "'eligible', :v, '{}', '[]', 'data')"), {"p": patient, "v": version})
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, screened_version FROM patients ORDER BY pk")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_each_child_keeps_the_version_of_its_latest_screening(tmp_path):
    assert migrate_and_read(f"sqlite:///{tmp_path / 'old.sqlite'}") == [
        ("p-1", "myocit-2027-01"), ("p-2", "myocit-2026-11"), ("p-3", None)]
