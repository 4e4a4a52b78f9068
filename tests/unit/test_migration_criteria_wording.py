"""Migration 0012: a protocol activation stored before criteria.yaml existed gets the shipped wording,
so the loader (which now requires it) still loads what was activated (SQLite here, PostgreSQL in
tests/integration/test_migrations_postgres.py)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from config.protocol_files import DEFAULT_VERSION, PROTOCOLS_DIR, load_protocol_files
from store.migrate import upgrade

SHIPPED = PROTOCOLS_DIR / DEFAULT_VERSION
FILES_BEFORE = {p.name: p.read_text(encoding="utf-8") for p in sorted(SHIPPED.glob("*.yaml"))
                if p.name != "criteria.yaml"}


def migrate_and_load(url: str) -> dict:
    """The files of an activation stored under 0008, as migration 0012 leaves them."""
    upgrade(url, "0008")
    engine = create_engine(url)
    files = "CAST(:files AS JSON)" if url.startswith("postgresql") else ":files"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO protocol_activations (name, version, files, activated_at, activated_by, "
                          f"patients) VALUES ('myocit-2026-11', '2026-11', {files}, '2026-12-01 10:00:00+00', "
                          "'admin', 0)"), {"files": json.dumps(FILES_BEFORE)})
    upgrade(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT files FROM protocol_activations")).scalar_one()
    engine.dispose()
    return stored if isinstance(stored, dict) else json.loads(stored)


def test_an_activation_stored_without_criteria_names_loads_with_them_after_the_migration(tmp_path):
    files = migrate_and_load(f"sqlite:///{tmp_path / 'old.sqlite'}")
    assert set(files) == set(FILES_BEFORE) | {"criteria.yaml"}
    assert {name: files[name] for name in FILES_BEFORE} == FILES_BEFORE
    assert load_protocol_files("myocit-2026-11", files).criterion_name("EXC-ORAL") == "Cannot take oral treatment"
