"""An embedded (SQLite) database at the head of the migrations, made by copying one migrated once.

Running the Alembic migrations takes a few hundred milliseconds; the in-process tests each start from a
new database, hundreds of times a run. The migrations run once per process into a template file, and
each new database is a copy of that file, byte for byte what the migrations left (the migrations write
through a plain connection, so the file holds everything: no write-ahead log beside it). The migrations
themselves stay tested from an empty database and from each earlier revision
(tests/unit/test_migration_*.py, tests/integration/test_migrations_postgres.py)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
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
