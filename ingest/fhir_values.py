"""Small readers for FHIR datatypes: codings, dates, quantities and references.

Dates are taken as written: ``2026-11-20T23:30:00-05:00`` is on 20 November, whatever the server's
time zone. A date-time also gives ``seq``, the instant in UTC, so that two results of one day order
by time. A partial date (``2026-11``, ``2026``) falls on its first day and says so in a warning.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.doses import milligrams
from domain.facts import Code, Quantity
from ingest.systems import UCUM, fhir_alias

UNDATED = date(1900, 1, 1)
"""The date given to a lifetime fact (a diagnosis, a medicine, a coverage) that carries no date at
all: it counts as "some time before", visible at any ``as_of``. A warning always goes with it."""


def codes_of(concept: Any) -> tuple[Code, ...]:
    """Every coding of a CodeableConcept that has a code, as (alias, code)."""
    if concept is None:
        return ()
    return tuple(
        Code(fhir_alias(c.system), c.code.strip())
        for c in (concept.coding or ())
        if c.code and c.code.strip()
    )


def coding_code(concept: Any, system: str) -> str | None:
    """The code of the first coding in ``system``."""
    for coding in (getattr(concept, "coding", None) or ()):
        if coding.system == system and coding.code:
            return coding.code.strip()
    return None


def concept_text(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    for coding in concept.coding or ():
        if coding.display:
            return coding.display
    for coding in concept.coding or ():
        if coding.code:
            return coding.code
    return None


def day_of(value: Any) -> tuple[date, str, bool] | None:
    """(date as written, seq, partial?) of a FHIR date / dateTime / instant value, or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.date(), value.strftime("%Y-%m-%dT%H:%M:%S.%f"), False
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            # A moment at the very edge of the calendar (year 1 or 9999) has no UTC time; its day
            # stands as written and the bounds refuse it (ingest/bounds.py: 1900-2200).
            return value.date(), value.strftime("%Y-%m-%dT%H:%M:%S.%f"), False
        return value.date(), utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), False
    if isinstance(value, date):
        return value, "", False
    text = str(value).strip()
    try:
        if len(text) == 4:
            return date(int(text), 1, 1), "", True
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1), "", True
        return date.fromisoformat(text[:10]), "", False
    except ValueError:
        return None


def first_day(*values: Any) -> tuple[date, str, bool] | None:
    for value in values:
        found = day_of(value)
        if found is not None:
            return found
    return None


def period_start(period: Any) -> Any:
    return period.start if period is not None else None


def period_end(period: Any) -> Any:
    return period.end if period is not None else None


def number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def quantity_of(q: Any) -> Quantity | None:
    """A Quantity with its UCUM code (the printed unit when no UCUM code) and comparator."""
    if q is None or q.value is None:
        return None
    if q.code and (q.system is None or q.system == UCUM):
        unit = q.code
    else:
        unit = q.unit or q.code or ""
    return Quantity(float(q.value), unit.strip(), q.comparator or None)


def mass_mg(q: Any) -> float | None:
    """A dose quantity in mg, when its unit is a mass."""
    found = quantity_of(q)
    if found is None or found.comparator:
        return None
    return milligrams(found.value, found.unit)


def reference_key(reference: str) -> str:
    """``Type/id`` from a relative or absolute RESTful reference (history suffix dropped), else as is."""
    ref = reference.strip()
    if "/_history/" in ref:
        ref = ref.split("/_history/", 1)[0]
    if ref.startswith(("urn:", "#")) or "?" in ref:
        return ref
    parts = [p for p in ref.split("/") if p]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return f"{parts[-2]}/{parts[-1]}"
    return ref
