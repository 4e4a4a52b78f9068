"""Reading an initial load from disk (contract §7): FHIR NDJSON files, one resource a line as Bulk Data
``$export`` writes them, and FHIR Bundle JSON files, or folders of them, in any order.

Only the reading is here: each unit (a line of NDJSON, or a whole Bundle file) comes out as raw bytes
with where it came from; parsing and storing are the intake's, exactly as for ``POST /fhir``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".ndjson", ".json")


@dataclass(frozen=True)
class Unit:
    path: Path
    line: int
    """1-based line of an NDJSON file; 1 for a Bundle file."""
    raw: bytes
    bundle: bool
    """A whole Bundle file (stored as one message) rather than one resource."""


class Unreadable(OSError):
    """A path that names no file or folder that can be read."""


def files(paths: list[Path]) -> list[Path]:
    """The .ndjson and .json files the paths name (folders searched recursively), sorted; Unreadable
    for a path that does not exist."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise Unreadable(f"{path}: no such file or folder")
    return found


def units(path: Path) -> Iterator[Unit]:
    """The units of one file: each non-blank line of an NDJSON file, or the whole of a JSON file."""
    if path.suffix.lower() == ".ndjson":
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield Unit(path, number, line.rstrip(b"\r\n"), bundle=False)
        return
    yield Unit(path, 1, path.read_bytes(), bundle=True)
