"""Migration 0009 over messages already stored: the first message of each body, and of each HL7 sender
and MSH-10, takes the unique key; copies stored earlier by racing intakes stay, with their facts, and
keep theirs empty (SQLite here, PostgreSQL in tests/integration/test_migrations_postgres.py)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from store.intake import control_key
from store.migrate import upgrade

ROWS = [  # (sha256, sender, MSH-3, MSH-4, MSH-10)
    ("aaa", "LIS@LAB", "LIS", "LAB", "M-1"),
    ("bbb", "LIS@LAB", "LIS", "LAB", "M-1"),   # the same MSH-10 with another body: a race's copy
    ("aaa", "lab A", None, None, None),        # the same body again: a race's copy
    ("ccc", "lab A", None, None, None),
    ("ddd", "LIS@LAB", "LIS", "LAB", ""),      # no MSH-10: nothing to match repeats on
]


def migrate_and_read(url: str) -> list[tuple]:
    upgrade(url, "0008")
    engine = create_engine(url)
    with engine.begin() as conn:
        for sha256, sender, application, facility, control in ROWS:
            conn.execute(text("INSERT INTO messages (received_at, channel, content_type, body, sha256, sender, "
                              "control_id, fact_count, hl7_application, hl7_facility) VALUES ('2026-12-01 10:00:00+00', "
                              "'hl7v2', 'text', 'x', :sha, :sender, :control, 0, :app, :fac)"),
                         {"sha": sha256, "sender": sender, "control": control, "app": application, "fac": facility})
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT body_key, control_key FROM messages ORDER BY pk")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


EXPECTED = [("aaa", control_key("LIS@LAB", ("LIS", "LAB"), "M-1")), ("bbb", None), (None, None), ("ccc", None),
            ("ddd", None)]


def test_the_first_copy_of_each_message_takes_its_keys(tmp_path):
    assert migrate_and_read(f"sqlite:///{tmp_path / 'old.sqlite'}") == EXPECTED
