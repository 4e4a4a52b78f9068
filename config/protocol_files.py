"""Loading a protocol version from its data files (``config/protocols/<version>/*.yaml``).

``protocol.yaml`` holds thresholds, windows, validity and wording choices; every ``codes-*.yaml``
adds code lists. Lists of the same name in several files are merged (one per code system).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

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
    for path in sorted(folder.glob("codes-*.yaml")):
        for name, spec in (_read(path).get("code_lists") or {}).items():
            lists.setdefault(name, []).append(spec)
    data["code_lists"] = lists
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProtocolError(f"protocol {folder.name}: {where}: {first['msg']}") from None


@lru_cache(maxsize=8)
def load_protocol(version: str = DEFAULT_VERSION) -> Protocol:
    """The protocol version shipped under ``config/protocols`` (cached: protocols are immutable)."""
    folder = PROTOCOLS_DIR / version
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in PROTOCOLS_DIR.iterdir() if p.is_dir()))
        raise ProtocolError(f"unknown protocol version {version!r} (known: {known})")
    return load_protocol_dir(folder)
