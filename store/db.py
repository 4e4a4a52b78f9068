"""Engines and sessions. Built by ``bootstrap``, never at import time."""

from __future__ import annotations

import json

import msgspec
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below holds.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted content is overwritten, so an erased child leaves nothing in the file (§17).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection) -> None:
            # SQLite has one writer: take the write lock up front instead of failing on upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip per checkout. A connection broken by a server restart fails
    # once, SQLAlchemy then discards the whole pool, and callers answer 503 or retry.
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_recycle=1800,
                         json_deserializer=_json_loads)


_decode = msgspec.json.Decoder().decode


def _json_loads(text: str | bytes):
    """JSON columns read back (a fact's payload at every evaluation): msgspec's decoder, which gives
    the same values as ``json.loads`` for any JSON it reads, at a third of its cost; what it refuses
    (a number beyond a float's range, a lone surrogate) is read by ``json.loads`` as before."""
    try:
        return _decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def make_session_factory(engine: Engine, *, keyring=None) -> sessionmaker[Session]:
    """``keyring``: a callable giving the pseudonym ``domain.privacy.Keyring``, called only when a
    tombstone is checked or written (``store.tombstones``)."""
    return sessionmaker(engine, expire_on_commit=False, info={"keyring": keyring} if keyring else None)
