"""Migration 0017 over data already stored (contract §18): screenings keep their English reasons and
show them in either language, subscriptions and confirmations gain a language left empty, and
confirmations stay unchangeable (the column is added in place, never by copying the table)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from config.language import screening_in
from store.migrate import upgrade
from tests.unit.test_migration_access_mappings import CONFIRMATION


def test_stored_rows_keep_what_they_said_and_confirmations_stay_unchangeable(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                          "('p-1', true, 1, 1, 'necker')"))
        conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, result, "
                          "fact_pks, trigger) VALUES (1, '2026-12-01 10:00:00+00', '2026-12-01', 'eligible', "
                          "'2026-11', '{\"criteria\": [{\"id\": \"INC-CONSENT\", \"reason\": "
                          "\"Needs an investigator attestation\"}]}', '[]', 'data')"))
        conn.execute(text("INSERT INTO subscriptions (site, channel, target, active, created_at) VALUES "
                          "('necker', 'email', 'crc@example.org', true, '2026-12-01 09:00:00+00')"))
        conn.execute(text(CONFIRMATION.format(token="NULL", extra="", values="")))
    upgrade(url)
    with engine.begin() as conn:
        result, reasons = conn.execute(text("SELECT result, reasons FROM screenings")).one()
        assert reasons is None
        assert conn.execute(text("SELECT language FROM subscriptions")).scalar() is None
        assert conn.execute(text("SELECT language, sha256 FROM confirmations")).one() == (None, "abc")
    import json
    stored = json.loads(result)
    assert screening_in(stored, None, "en") == stored
    assert screening_in(stored, None, "fr")["criteria"][0]["reason"] == "Attestation de l'investigateur nécessaire"
    with pytest.raises(DatabaseError):
        with engine.begin() as conn:
            conn.execute(text("UPDATE confirmations SET language = 'fr'"))
    with pytest.raises(DatabaseError):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM confirmations"))
