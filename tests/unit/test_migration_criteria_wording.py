"""Migration 0012: a protocol activation stored before criteria.yaml existed gets the shipped wording,
so the loader (which now requires it) still loads what was activated."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from config.protocol_files import PROTOCOLS_DIR, DEFAULT_VERSION, load_protocol_files
from store.migrate import upgrade


def test_an_activation_stored_without_criteria_names_loads_with_them_after_the_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0008")
    shipped = PROTOCOLS_DIR / DEFAULT_VERSION
    old_files = {p.name: p.read_text(encoding="utf-8") for p in sorted(shipped.glob("*.yaml"))
                 if p.name != "criteria.yaml"}
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO protocol_activations (name, version, files, activated_at, activated_by, "
                          "patients) VALUES ('myocit-2026-11', '2026-11', :files, '2026-12-01 10:00:00+00', "
                          "'admin', 0)"), {"files": json.dumps(old_files)})
    upgrade(url)
    with engine.connect() as conn:
        files = json.loads(conn.execute(text("SELECT files FROM protocol_activations")).scalar_one())
    engine.dispose()
    assert set(files) == set(old_files) | {"criteria.yaml"}
    protocol = load_protocol_files("myocit-2026-11", files)
    assert protocol.criterion_name("EXC-ORAL") == "Cannot take oral treatment"
