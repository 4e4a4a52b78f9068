"""Migration 0013 over data already stored: the tokens and page sessions of before stay as they were,
and group mappings (contract §14) can be kept and removed."""

from __future__ import annotations

from sqlalchemy import create_engine, text

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
    upgrade(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT name, role FROM api_tokens")).one() == ("coord", "coordinator")
        assert conn.execute(text("SELECT id_hash, token_pk, ended_at FROM ui_sessions")).one() == ("s", 1, None)
        conn.execute(text("INSERT INTO access_mappings (group_name, role, sites, created_at) VALUES "
                          "('necker-coordinators', 'coordinator', '[\"necker\"]', '2026-12-02 09:00:00+00')"))
        conn.execute(text("UPDATE access_mappings SET removed_at = '2026-12-03 09:00:00+00'"))
        assert conn.execute(text("SELECT group_name, removed_at IS NOT NULL FROM access_mappings")).one() == (
            "necker-coordinators", 1)
    engine.dispose()
