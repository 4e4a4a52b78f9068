"""A stored message without one child's part (contract §17): a message that also carried other
children keeps their parts. FHIR: the Bundle's entries that name the child are left out; HL7 v2: the
child's PID group (PID up to the next PID) is left out. What cannot be cut apart is replaced whole."""

from __future__ import annotations

import json
import re

PLACEHOLDER = "[erased: this message concerned a child whose data was erased (contract §17)]"


def _mentions(node, values: frozenset[str]) -> bool:
    if isinstance(node, str):
        return node in values or any(node.endswith("/" + v) or node.endswith("|" + v) for v in values)
    if isinstance(node, dict):
        return any(_mentions(v, values) for v in node.values())
    if isinstance(node, list):
        return any(_mentions(v, values) for v in node)
    return False


def _redact_fhir(body: str, values: frozenset[str]) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return None if _mentions(document, values) else body
    entries = document.get("entry") or []
    kept = [e for e in entries if not _mentions(e, values)]
    if len(kept) == len(entries):
        return body
    if not kept:
        return None
    document["entry"] = kept
    return json.dumps(document, ensure_ascii=False)


_HL7_FIELD = re.compile(r"[|^~&\\]")


def _redact_hl7(body: str, values: frozenset[str]) -> str | None:
    segments = re.split(r"\r\n|\r|\n", body)
    kept, dropping, dropped = [], False, False
    for segment in segments:
        if segment.startswith("PID"):
            dropping = any(part in values for part in _HL7_FIELD.split(segment))
        elif segment.startswith(("MSH", "BHS", "BTS", "FHS", "FTS")):
            dropping = False
        if dropping:
            dropped = True
            continue
        kept.append(segment)
    if not dropped:
        return body
    if not any(s.startswith("PID") for s in kept):
        return None
    return "\r".join(kept)


def redact(body: str, values: set[str]) -> str | None:
    """``body`` without the parts naming any of ``values`` (the child's ids and identifier values):
    the same body when nothing names them, None when nothing of another child's would be left."""
    values = frozenset(v for v in values if v)
    if not values:
        return body
    text = body.lstrip()
    if text.startswith(("MSH", "FHS", "BHS")):
        result = _redact_hl7(body, values)
    elif text.startswith(("{", "[")):
        result = _redact_fhir(body, values)
    else:
        result = None if any(v in body for v in values) else body
    if result is not None and result is not body and any(v in result for v in values):
        return PLACEHOLDER
    return result
