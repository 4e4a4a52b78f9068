"""Paediatric kidney function from what labs report (criteria-catalogue §5).

Pure arithmetic, in the units the rules compare in: height in cm, weight in kg, creatinine in mg/dL,
clearance in mL/min and mL/min/1.73 m². Results are rounded to 6 decimals so that values equal on
paper (0.413 × 100 / 1.0325 = 40) are not pushed below a threshold by floating-point noise.
"""

from __future__ import annotations

from math import sqrt

STANDARD_BSA_M2 = 1.73
# Beyond any child, premature newborn to tall adolescent: a value outside is an entry error or a unit
# slip, and arithmetic on it would decide (or divide by a body surface rounded to zero).
PLAUSIBLE_HEIGHT_CM = (20.0, 250.0)
PLAUSIBLE_WEIGHT_KG = (0.2, 300.0)
_DIGITS = 6
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def implausible_height(cm: float) -> bool:
    low, high = PLAUSIBLE_HEIGHT_CM
    return not low <= cm <= high


def implausible_weight(kg: float) -> bool:
    low, high = PLAUSIBLE_WEIGHT_KG
    return not low <= kg <= high


def bedside_schwartz(height_cm: float, creatinine_mg_dl: float, k: float) -> float | None:
    """eGFR (mL/min/1.73 m²) = k × height (cm) / creatinine (mg/dL); None unless both are positive."""
    if height_cm <= 0 or creatinine_mg_dl <= 0:
        return None
    return round(k * height_cm / creatinine_mg_dl, _DIGITS)


def mosteller_bsa(height_cm: float, weight_kg: float) -> float | None:
    """Body surface area (m²) = √(height cm × weight kg / 3600); None unless both are positive and the
    surface is not rounded to nothing."""
    if height_cm <= 0 or weight_kg <= 0:
        return None
    return round(sqrt(height_cm * weight_kg / 3600), _DIGITS) or None


def normalised_clearance(ml_min: float, bsa_m2: float) -> float:
    """A measured clearance per 1.73 m² of body surface: mL/min × 1.73 / BSA."""
    return round(ml_min * STANDARD_BSA_M2 / bsa_m2, _DIGITS)


def inverse_comparator(comparator: str | None) -> str | None:
    """The comparator of a quotient's value when its divisor carried ``comparator``: ``<`` becomes ``>``."""
    return _FLIPPED.get(comparator) if comparator else None
