"""Migration 0010 over data already stored (SQLite here, PostgreSQL in
tests/integration/test_migrations_postgres.py): screenings gain ``eligible_until`` (null for those
stored before it was computed), an alert may have no previous status (a new candidate), and
confirmations record the keys their hash covers, those signed before keeping null and staying
unchangeable."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from domain.confirmation import (
    KEYS_BEFORE_WINDOW,
    keys_covered,
    keys_recorded,
    signature_hash,
    signature_matches,
)
from store.migrate import upgrade

OLD_RESULT = ('{"patient": "p-1", "protocol": "MYOCIT", "protocol_version": "2026-11", "as_of": "2026-12-01", '
              '"status": "eligible", "eligible_from": null, "next_review_at": null, "criteria": []}')


def migrate_and_read(url: str) -> dict:
    upgrade(url, "0008")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                          "('p-1', true, 1, 1, 'site-a')"))
        conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, result, "
                          "fact_pks, trigger, eligible_from) VALUES (1, '2026-12-01 10:00:00+00', '2026-12-01', "
                          "'eligible', '2026-11', :result, '[]', 'data', NULL)"), {"result": OLD_RESULT})
        conn.execute(text("INSERT INTO alerts (patient_pk, screening_pk, site, from_status, to_status, changed, "
                          "created_at, confirmed) VALUES (1, 1, 'site-a', 'incomplete', 'eligible', '[]', "
                          "'2026-12-01 10:00:00+00', false)"))
        conn.execute(text("INSERT INTO api_tokens (name, role, token_hash, sites, created_at) VALUES "
                          "('inv', 'investigator', 'h', '[]', '2026-12-01 09:00:00+00')"))
        conn.execute(text("INSERT INTO confirmations (patient_pk, screening_pk, token_pk, signer_name, role, site, "
                          "signed_at, meaning, as_of, protocol_version, sha256) VALUES (1, 1, 1, 'inv', "
                          "'investigator', 'site-a', '2026-12-01 11:00:00+00', 'm', '2026-12-01', '2026-11', 'abc')"))
    upgrade(url)
    found = {}
    with engine.begin() as conn:
        found["screening"] = tuple(conn.execute(text("SELECT status, eligible_until FROM screenings")).one())
        found["alert"] = tuple(conn.execute(text("SELECT from_status, to_status FROM alerts")).one())
        found["confirmation"] = tuple(conn.execute(text("SELECT sha256, signed_keys FROM confirmations")).one())
        conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, result, "
                          "fact_pks, trigger, eligible_until) VALUES (1, '2026-12-02 10:00:00+00', '2026-12-02', "
                          "'eligible', '2026-11', '{}', '[]', 'data', '2026-12-16')"))
        conn.execute(text("INSERT INTO alerts (patient_pk, screening_pk, site, from_status, to_status, changed, "
                          "created_at, confirmed) VALUES (1, 2, 'site-a', NULL, 'eligible', '[]', "
                          "'2026-12-02 10:00:00+00', false)"))
        found["new candidate"] = conn.execute(text("SELECT count(*) FROM alerts WHERE from_status IS NULL")).scalar()
    with pytest.raises(DatabaseError), engine.begin() as conn:
        conn.execute(text("UPDATE confirmations SET signed_keys = 'patient'"))
    engine.dispose()
    return found


def test_stored_rows_survive_and_confirmations_stay_unchangeable(tmp_path):
    assert migrate_and_read(f"sqlite:///{tmp_path / 'old.sqlite'}") == {
        "screening": ("eligible", None), "alert": ("incomplete", "eligible"), "confirmation": ("abc", None),
        "new candidate": 1}


def test_a_confirmation_without_recorded_keys_is_checked_against_the_keys_before_the_window():
    import json

    old = json.loads(OLD_RESULT)
    assert keys_covered(None) == KEYS_BEFORE_WINDOW and "eligible_until" not in KEYS_BEFORE_WINDOW
    assert signature_matches(old, signature_hash(old, KEYS_BEFORE_WINDOW), None)
    # The same screening under today's keys (eligible_until: null) hashes differently: no false match.
    assert not signature_matches(old, signature_hash(old), None)
    assert signature_matches(old, signature_hash(old), keys_recorded())
