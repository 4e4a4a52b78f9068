"""Search a whole database for strings: every table, every column that can hold text (strings, text,
JSON), whatever tables exist when it runs (the schema is reflected, so tables added later are searched
too). What the tests of erasure (contract §17) use to say "nothing of this child is left"."""

from __future__ import annotations

import json

from sqlalchemy import JSON, Engine, MetaData, String, Text, select
from sqlalchemy.types import TypeDecorator

SKIPPED = {"alembic_version"}


def _textual(column) -> bool:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl
    name = type(kind).__name__.upper()
    return isinstance(kind, (String, Text, JSON)) or name in ("JSON", "JSONB", "TEXT", "VARCHAR", "CHAR", "NULLTYPE")


def occurrences(engine: Engine, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every cell holding one of ``needles``; dates are searched as text."""
    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name in SKIPPED:
                continue
            columns = list(table.columns)
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else (
                        json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list))
                        else str(value))
                    for needle in needles:
                        if needle in text:
                            found.append((table.name, column.name, needle))
    return found
