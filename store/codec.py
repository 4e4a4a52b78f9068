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


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
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
    cls = type(fact)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(fact))
    return {name: _plain(getattr(fact, name)) for name in names}


def load(kind: str, payload: dict, *, revision: int | None = None) -> Fact:
    """The fact a payload holds; ``revision``, when given, replaces the payload's own."""
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
    if revision is not None:
        values["revision"] = revision
    return cls(**values)
