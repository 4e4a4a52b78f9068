"""Migration 0014 over data already stored: every child gets a screening id; audit rows that named a
child by the EHR's Patient id are rewritten to its screening id before the audit becomes unchangeable;
a signed confirmation still cannot be changed or deleted outside an erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from store.migrate import upgrade

BOOL = {"sqlite": "1", "postgresql": "true"}


def migrate_and_read(url: str) -> dict:
    upgrade(url, "0013")
    engine = create_engine(url)
    true = BOOL[engine.dialect.name]
    with engine.begin() as conn:
        for pid in ("p-1", "p-2"):
            conn.execute(text(f"INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                              f"('{pid}', {true}, 1, 1, 'necker')"))
        for action, target in (("view", "Patient/p-1"), ("patient-move", "Patient/p-2: a -> necker"),
                               ("post", "Message/7"), ("view", "Patient/gone")):
            conn.execute(text("INSERT INTO audit_log (at, actor, action, target) VALUES "
                              f"('2026-12-01 09:00:00+00', 'someone', '{action}', '{target}')"))
    upgrade(url)
    with engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT id, screening_id FROM patients")).all())
        rows = conn.execute(text("SELECT action, target, screening_id FROM audit_log ORDER BY pk")).all()
    for change in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError), engine.begin() as conn:
            conn.execute(text(change))
    engine.dispose()
    return {"ids": ids, "rows": rows}


def test_audit_rows_name_children_by_screening_id_and_can_no_longer_change(tmp_path):
    read = migrate_and_read(f"sqlite:///{tmp_path / 'old.sqlite'}")
    ids = read["ids"]
    assert sorted(ids) == ["p-1", "p-2"] and len(set(ids.values())) == 2
    assert all(sid.startswith("s-") and len(sid) == 14 for sid in ids.values())
    assert read["rows"] == [("view", None, ids["p-1"]), ("patient-move", "site a -> necker", ids["p-2"]),
                            ("post", "Message/7", None), ("view", None, None)]
