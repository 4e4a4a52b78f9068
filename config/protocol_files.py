"""Loading a protocol version from its data files (``config/protocols/<version>/*.yaml``).

``protocol.yaml`` holds thresholds, windows, validity and wording choices; every ``codes-*.yaml``
adds code lists. Lists of the same name in several files are merged (one per code system).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.protocol import Protocol

PROTOCOLS_DIR = Path(__file__).resolve().parent / "protocols"
DEFAULT_VERSION = "myocit-2026-11"


class ProtocolError(ValueError):
    """A protocol definition that cannot be used; the message says which file and why."""


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path.name}: expected a mapping at the top")
    return data


def load_protocol_dir(folder: Path) -> Protocol:
    main = folder / "protocol.yaml"
    if not main.is_file():
        raise ProtocolError(f"{folder}: no protocol.yaml")
    data = _read(main)
    lists: dict[str, list[dict]] = {}
    files: dict[tuple[str, int], str] = {}
    for path in sorted(folder.glob("codes-*.yaml")):
        for name, spec in (_read(path).get("code_lists") or {}).items():
            files[(name, len(lists.get(name, ())))] = path.name
            lists.setdefault(name, []).append(spec)
    data["code_lists"] = lists
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("; ".join(_located(folder, error, files) for error in exc.errors())) from None


def _located(folder: Path, error: ErrorDetails, files: dict[tuple[str, int], str]) -> str:
    """One error, with the file and the key it is about: a missing key is named, never defaulted."""
    loc = error["loc"]
    what = "required key missing" if error["type"] == "missing" else error["msg"]
    if not loc:
        return f"protocol {folder.name}: {what}"
    if loc[0] != "code_lists":
        return f"{folder.name}/protocol.yaml: {'.'.join(str(p) for p in loc)}: {what}"
    if len(loc) < 3:
        return f"{folder.name}/codes-*.yaml: {'.'.join(str(p) for p in loc)}: {what}"
    # A list named in several files is merged in file order, so its position says which file.
    source = files.get((str(loc[1]), int(loc[2])), "codes-*.yaml")
    key = ".".join(str(p) for p in ("code_lists", loc[1], *loc[3:]))
    return f"{folder.name}/{source}: {key}: {what}"


@lru_cache(maxsize=8)
def load_protocol(version: str = DEFAULT_VERSION) -> Protocol:
    """The protocol version shipped under ``config/protocols`` (cached: protocols are immutable)."""
    folder = PROTOCOLS_DIR / version
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in PROTOCOLS_DIR.iterdir() if p.is_dir()))
        raise ProtocolError(f"unknown protocol version {version!r} (known: {known})")
    return load_protocol_dir(folder)
