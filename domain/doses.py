"""A medicine's daily dose in mg, what the prior-medication criteria compare: the arithmetic of
masses, rates and administrations a day, whatever format the dose was written in."""

from __future__ import annotations

MG_PER_MASS_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "µg": 0.001, "kg": 1_000_000.0}
MG_PER_DAY_UNITS = frozenset({"mg/d", "mg/24.h", "mg/(24.h)"})
ADMINISTRATIONS_PER_DAY = {"QD": 1.0, "AM": 1.0, "PM": 1.0, "BID": 2.0, "TID": 3.0, "QID": 4.0, "QOD": 0.5,
                           "Q4H": 6.0, "Q6H": 4.0, "Q8H": 3.0, "Q12H": 2.0}
"""The HL7 v3 timing abbreviations (GTSAbbreviation) a prescription may carry instead of a repeat."""
DAYS_PER_PERIOD_UNIT = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0,
                        "a": 365.0}


def milligrams(value: float, unit: str) -> float | None:
    """``value`` of a mass ``unit`` in mg; None when the unit is not a mass."""
    factor = MG_PER_MASS_UNIT.get(unit.lower())
    return None if factor is None else value * factor


def is_mg_per_day(unit: str) -> bool:
    return unit.lower() in MG_PER_DAY_UNITS


def days_of(value: float, unit: str | None) -> float:
    """A duration of ``value`` ``unit`` (UCUM: s, min, h, d, wk, mo, a) in days; a unit not given or not
    known counts as days."""
    return value * DAYS_PER_PERIOD_UNIT.get(unit or "d", 1.0)


def administrations_per_day(frequency: float, period: float | None, period_unit: str | None) -> float | None:
    """``frequency`` times every ``period`` ``period_unit`` (a day when the unit is not given or not
    known), as administrations a day; no period: ``frequency`` a day. None for a period of zero."""
    if period is None:
        return frequency
    days = days_of(period, period_unit)
    return frequency / days if days > 0 else None


def daily_mg(dose_mg: float, per_day: float | None) -> float:
    """A dose taken ``per_day`` times a day; once a day when how often is not said."""
    return dose_mg * (per_day if per_day is not None else 1.0)
