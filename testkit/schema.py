"""An embedded (SQLite) database at the head of the migrations, made by copying one migrated once.

Running the Alembic migrations takes a few hundred milliseconds; the in-process tests each start from a
new database, hundreds of times a run. The migrations run once per process into a template file, and
each new database is a copy of that file, byte for byte what the migrations left, in the write-ahead-log
mode the service sets on its first connection (the log folded into the file, so the file holds
everything). The migrations themselves stay tested from an empty database and from each earlier
revision (tests/unit/test_migration_*.py, tests/integration/test_migrations_postgres.py)."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

_template: Path | None = None


def _migrated_template() -> Path:
    global _template
    if _template is None:
        from store.migrate import upgrade

        folder = Path(tempfile.mkdtemp(prefix="myocit-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "myocit.sqlite"
        upgrade(f"sqlite:///{template}")
        # In write-ahead-log mode already, as the service's first connection leaves it (store/db.py):
        # switching a new file's mode costs each test a synced write. Closed, the log is folded in.
        with closing(sqlite3.connect(template)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
        assert not template.with_name(template.name + "-wal").exists()
        _template = template
    return _template


def migrated_sqlite(path: Path) -> bool:
    """Make ``path`` a database at the head of the migrations when no database is there yet (True);
    leave an existing file alone (False: the caller migrates it as the service would)."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), path)
    return True
