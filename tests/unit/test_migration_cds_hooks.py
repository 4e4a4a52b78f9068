"""Migration 0015 (contract §15) over data already stored: the children stay, EHRs can be registered, a
JWT id is kept once per issuer (the replay store's unique key), cards and feedback can be kept for a
child; and the migration undoes cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from store.migrate import alembic_config, upgrade


def test_the_tables_of_the_cds_hooks_service_over_stored_children(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                          "('p-1', true, 1, 1, 'necker')"))
    upgrade(url, "0015")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, site FROM patients")).one() == ("p-1", "necker")
        conn.execute(text("INSERT INTO ehr_registrations (issuer, jwks_url, sites, created_at) VALUES "
                          "('https://ehr', 'https://ehr/jwks', '[\"necker\"]', '2026-12-01 09:00:00+00')"))
        conn.execute(text("INSERT INTO cds_jtis (issuer, jti, expires_at) VALUES ('https://ehr', 'j-1', "
                          "'2026-12-01 09:05:00+00'), ('https://other', 'j-1', '2026-12-01 09:05:00+00')"))
        conn.execute(text("INSERT INTO cds_cards (uuid, ehr_pk, patient_pk, status, shown_at) VALUES "
                          "('u-1', 1, 1, 'eligible', '2026-12-01 09:00:00+00')"))
        conn.execute(text("INSERT INTO cds_feedback (card_pk, outcome, reason, outcome_at, received_at) VALUES "
                          "(1, 'overridden', 'family-not-interested', '2026-12-01 09:01:00+00', "
                          "'2026-12-01 09:01:05+00')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO cds_jtis (issuer, jti, expires_at) VALUES ('https://ehr', 'j-1', "
                          "'2026-12-01 09:06:00+00')"))
    engine.dispose()


def test_it_undoes_cleanly(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url, "0015")
    command.downgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"ehr_registrations", "cds_jtis", "cds_cards", "cds_feedback"}
    engine.dispose()
