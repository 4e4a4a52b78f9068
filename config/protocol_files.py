"""Loading a protocol version from its data files (``config/protocols/<version>/*.yaml``).

``protocol.yaml`` holds thresholds, windows, validity and wording choices; every ``codes-*.yaml``
adds code lists. Lists of the same name in several files are merged (one per code system).
``criteria.yaml`` gives each criterion its short name and protocol sentence, by language.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.criteria import ORDER
from domain.protocol import Protocol

PROTOCOLS_DIR = Path(__file__).resolve().parent / "protocols"
DEFAULT_VERSION = "myocit-2026-11"
CRITERIA_FILE = "criteria.yaml"


class ProtocolError(ValueError):
    """A protocol definition that cannot be used; the message says which file and why."""


def _read(name: str, text: str, where: str = "") -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{where}{name}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}{name}: expected a mapping at the top")
    return data


def read_version_files(folder: Path) -> dict[str, str]:
    """The data files of a version folder, by file name: ``protocol.yaml``, ``criteria.yaml`` and every
    ``codes-*.yaml``."""
    main = folder / "protocol.yaml"
    if not main.is_file():
        raise ProtocolError(f"{folder}: no protocol.yaml")
    wording = folder / CRITERIA_FILE
    paths = [main, *([wording] if wording.is_file() else []), *sorted(folder.glob("codes-*.yaml"))]
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def load_protocol_dir(folder: Path) -> Protocol:
    return load_protocol_files(folder.name, read_version_files(folder))


def load_protocol_files(name: str, texts: dict[str, str]) -> Protocol:
    """A version from its data files' texts (a folder read, or the copy the database keeps of the
    active version); errors name the version folder, the file and the key."""
    if "protocol.yaml" not in texts:
        raise ProtocolError(f"{name}: no protocol.yaml")
    data = _read("protocol.yaml", texts["protocol.yaml"], f"{name}/")
    lists: dict[str, list[dict]] = {}
    files: dict[tuple[str, int], str] = {}
    for file in sorted(f for f in texts if f.startswith("codes-") and f.endswith(".yaml")):
        found = _read(file, texts[file], f"{name}/").get("code_lists") or {}
        if not isinstance(found, dict):
            raise ProtocolError(f"{name}/{file}: code_lists: expected a mapping")
        for list_name, spec in found.items():
            files[(list_name, len(lists.get(list_name, ())))] = file
            lists.setdefault(list_name, []).append(spec)
    data["code_lists"] = lists
    data["criteria"] = _criteria_wording(name, texts)
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("; ".join(_located(name, error, files) for error in exc.errors())) from None


def _criteria_wording(name: str, texts: dict[str, str]) -> dict:
    """``criteria.yaml``'s names and sentences, refused unless every criterion of the contract is
    named and nothing else is."""
    if CRITERIA_FILE not in texts:
        raise ProtocolError(f"{name}: no {CRITERIA_FILE} (each criterion's name and protocol sentence)")
    found = _read(CRITERIA_FILE, texts[CRITERIA_FILE], f"{name}/").get("criteria")
    if not isinstance(found, dict):
        raise ProtocolError(f"{name}/{CRITERIA_FILE}: criteria: expected a mapping of criterion ids")
    missing = [cid for cid in ORDER if cid not in found]
    unknown = sorted(set(found) - set(ORDER))
    if missing or unknown:
        said = [f"not named: {', '.join(missing)}"] if missing else []
        said += [f"not criteria of the protocol: {', '.join(unknown)}"] if unknown else []
        raise ProtocolError(f"{name}/{CRITERIA_FILE}: {'; '.join(said)}")
    return found


def _located(folder: str, error: ErrorDetails, files: dict[tuple[str, int], str]) -> str:
    """One error, with the file and the key it is about: a missing key is named, never defaulted."""
    loc = error["loc"]
    what = "required key missing" if error["type"] == "missing" else error["msg"]
    if not loc:
        return f"protocol {folder}: {what}"
    if loc[0] == "criteria":
        return f"{folder}/{CRITERIA_FILE}: {'.'.join(str(p) for p in loc)}: {what}"
    if loc[0] != "code_lists":
        return f"{folder}/protocol.yaml: {'.'.join(str(p) for p in loc)}: {what}"
    if len(loc) < 3:
        return f"{folder}/codes-*.yaml: {'.'.join(str(p) for p in loc)}: {what}"
    # A list named in several files is merged in file order, so its position says which file.
    source = files.get((str(loc[1]), int(loc[2])), "codes-*.yaml")
    key = ".".join(str(p) for p in ("code_lists", loc[1], *loc[3:]))
    return f"{folder}/{source}: {key}: {what}"


def version_folders(extra: Path | None = None) -> dict[str, Path]:
    """Every version found (contract §10): the shipped ones and those in ``extra``
    (``MYOCIT_PROTOCOLS``, a folder of version folders), by folder name; ``extra`` wins on a clash."""
    found = {p.name: p for p in sorted(PROTOCOLS_DIR.iterdir()) if (p / "protocol.yaml").is_file()}
    if extra is not None:
        if not extra.is_dir():
            raise ProtocolError(f"MYOCIT_PROTOCOLS: {extra} is not a folder")
        found.update({p.name: p for p in sorted(extra.iterdir()) if p.is_dir()})
    return found


def locate(version: str, extra: Path | None = None) -> Path:
    """The folder of ``version``: a version's name, or a folder path (a draft amendment)."""
    known = version_folders(extra)
    if version in known:
        return known[version]
    path = Path(version).expanduser()
    if path.is_dir():
        return path.resolve()
    raise ProtocolError(f"unknown protocol version {version!r} (known: {', '.join(sorted(known))}; "
                        "or give a version folder's path)")


@lru_cache(maxsize=8)
def load_protocol(version: str = DEFAULT_VERSION, extra: Path | None = None) -> Protocol:
    """A protocol version shipped under ``config/protocols`` or found in ``extra`` (``MYOCIT_PROTOCOLS``)
    (cached: protocols are immutable)."""
    folder = version_folders(extra).get(version)
    if folder is None:
        known = ", ".join(sorted(version_folders(extra)))
        raise ProtocolError(f"unknown protocol version {version!r} (known: {known})")
    return load_protocol_dir(folder)
