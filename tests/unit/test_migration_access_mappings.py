"""Migration 0013 over data already stored: the tokens, page sessions and signed confirmations of
before stay as they were (confirmations still unchangeable), group mappings (contract §14) can be
kept and removed, and a confirmation can name a signer re-authenticated by the provider instead of
a token."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from store.migrate import upgrade


def test_stored_tokens_and_sessions_survive_and_mappings_can_be_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0012")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_tokens (name, role, token_hash, sites, created_at) VALUES "
                          "('coord', 'coordinator', 'h', '[\"necker\"]', '2026-12-01 09:00:00+00')"))
        conn.execute(text("INSERT INTO ui_sessions (id_hash, token_pk, created_at) VALUES "
                          "('s', 1, '2026-12-01 09:30:00+00')"))
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq, site) VALUES "
                          "('p-1', true, 1, 1, 'necker')"))
        conn.execute(text("INSERT INTO screenings (patient_pk, created_at, as_of, status, protocol_version, result, "
                          "fact_pks, trigger) VALUES (1, '2026-12-01 10:00:00+00', '2026-12-01', 'eligible', "
                          "'2026-11', '{}', '[]', 'data')"))
        conn.execute(text(CONFIRMATION.format(token="1", extra="", values="")))
    upgrade(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT name, role FROM api_tokens")).one() == ("coord", "coordinator")
        assert conn.execute(text("SELECT id_hash, token_pk, ended_at FROM ui_sessions")).one() == ("s", 1, None)
        conn.execute(text("INSERT INTO access_mappings (group_name, role, sites, created_at) VALUES "
                          "('necker-coordinators', 'coordinator', '[\"necker\"]', '2026-12-02 09:00:00+00')"))
        conn.execute(text("UPDATE access_mappings SET removed_at = '2026-12-03 09:00:00+00'"))
        assert conn.execute(text("SELECT group_name, removed_at IS NOT NULL FROM access_mappings")).one() == (
            "necker-coordinators", 1)
        assert conn.execute(text("SELECT token_pk, sha256, signer_subject FROM confirmations")).one() == (
            1, "abc", None)
        conn.execute(text(CONFIRMATION.format(token="NULL", extra=", signer_issuer, signer_subject, auth_time",
                                              values=", 'https://idp', 'inv-1', '2026-12-02 10:59:00+00'")))
    for change in ("UPDATE confirmations SET meaning = 'x'", "DELETE FROM confirmations"):
        with pytest.raises(DatabaseError), engine.begin() as conn:
            conn.execute(text(change))
    engine.dispose()


CONFIRMATION = ("INSERT INTO confirmations (patient_pk, screening_pk, token_pk, signer_name, role, site, signed_at, "
                "meaning, as_of, protocol_version, sha256{extra}) VALUES (1, 1, {token}, 'inv', 'investigator', "
                "'necker', '2026-12-01 11:00:00+00', 'm', '2026-12-01', '2026-11', 'abc'{values})")
