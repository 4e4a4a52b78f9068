"""Migration 0016 over data already stored: email and webhook subscriptions and their deliveries stay
as they were; FHIR subscriptions and their numbered events can be kept, one event per number, and the
schema the models describe is the schema the migrations make."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from store.migrate import alembic_config, upgrade
from store.models import Base


def test_stored_subscriptions_survive_and_events_take_each_number_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO subscriptions (site, channel, target, secret, active, created_at) VALUES "
                          "('necker', 'webhook', 'https://ctms.example/in', 'whsec_x', true, '2026-12-01 09:00:00')"))
    upgrade(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT site, channel, secret FROM subscriptions")).one() == (
            "necker", "webhook", "whsec_x")
        conn.execute(text("INSERT INTO subscriptions (site, channel, target, active, created_at) VALUES "
                          "('necker', 'fhir', 'https://ctms.example/fhir', true, '2026-12-02 09:00:00')"))
        conn.execute(text("INSERT INTO fhir_subscriptions (subscription_pk, status, filters, content, headers, reason, "
                          "last_event_number, created_by, created_at) VALUES (2, 'active', '[]', 'id-only', '[]', "
                          "'r', 1, 'admin', '2026-12-02 09:00:00')"))
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                          "('p-1', true, 1, 1, 'necker')"))
        conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, result, "
                          "fact_pks, trigger) VALUES (1, '2026-12-02 10:00:00', '2026-12-02', 'eligible', "
                          "'2026-11', '{}', '[]', 'data')"))
        conn.execute(text("INSERT INTO alerts (patient_pk, screening_pk, site, to_status, changed, created_at) "
                          "VALUES (1, 1, 'necker', 'eligible', '[]', '2026-12-02 10:00:01')"))
        conn.execute(text(EVENT.format(number=1)))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(EVENT.format(number=1)))
    engine.dispose()


EVENT = ("INSERT INTO fhir_events (subscription_pk, event_number, alert_pk, focus, occurred_at, resource) "
         "VALUES (2, {number}, 1, 'ResearchSubject/p-1', '2026-12-02 10:00:01', '{{}}')")


def test_the_models_and_the_migrations_make_the_same_fhir_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    ours = [d for d in differences if "fhir" in repr(d)]
    assert ours == []


def test_the_migration_is_undone_cleanly(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'undo.sqlite'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    engine.dispose()
    assert not tables & {"fhir_subscriptions", "fhir_events"}
