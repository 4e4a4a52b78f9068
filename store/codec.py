"""Facts to JSON and back, for the ``facts.payload`` column (dates as ISO strings)."""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

from domain.facts import (
    Assessment,
    Attestation,
    Code,
    ConsentRecord,
    ConsentState,
    CoverageRecord,
    Diagnosis,
    Fact,
    LabResult,
    MedicationExposure,
    Qualitative,
    Quantity,
    Vaccination,
)

KINDS: dict[str, type] = {
    cls.__name__: cls
    for cls in (LabResult, Assessment, Diagnosis, MedicationExposure, Vaccination, ConsentRecord,
                CoverageRecord, Attestation)
}
_DATE_FIELDS = {"on", "abated", "until"}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Code):
        return [value.system, value.code]
    if isinstance(value, Quantity):
        return {"value": value.value, "unit": value.unit, "comparator": value.comparator}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def dump(fact: Fact) -> dict:
    return {f.name: _plain(getattr(fact, f.name)) for f in dataclasses.fields(fact)}


def load(kind: str, payload: dict) -> Fact:
    cls = KINDS[kind]
    values: dict[str, Any] = {}
    for name, raw in payload.items():
        if raw is None:
            values[name] = None
        elif name in _DATE_FIELDS:
            values[name] = date.fromisoformat(raw)
        elif name in ("codes", "reasons"):
            values[name] = tuple(Code(s, c) for s, c in raw)
        elif name == "quantity":
            values[name] = Quantity(raw["value"], raw["unit"], raw.get("comparator"))
        elif name == "qualitative":
            values[name] = Qualitative(raw)
        elif name == "state":
            values[name] = ConsentState(raw)
        else:
            values[name] = raw
    return cls(**values)
