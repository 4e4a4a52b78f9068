"""Unit conversion to the unit each rule compares in (criteria-catalogue §4).

Units arrive as UCUM codes, and sometimes as what labs print (``G/L`` in France, ``K/uL``).
A unit not listed here cannot be converted: the caller treats the result as unusable and says so.
"""

from __future__ import annotations

import re
from typing import Protocol


class Measured(Protocol):
    """What ``convert`` reads of a ``domain.facts.Quantity``; named by its shape, since facts.py imports
    this module to print its quantities with ``human``."""

    @property
    def value(self) -> float: ...

    @property
    def unit(self) -> str: ...

CREATININE_UMOL_PER_MG_DL = 88.42
HAEMOGLOBIN_G_DL_PER_MMOL_L = 1.6114

_CELL_COUNT = {  # to 10^9/L
    "10*9/l": 1.0,
    "10^9/l": 1.0,
    "g/l": 1.0,  # French "G/L" = giga per litre, not grams
    "giga/l": 1.0,
    "10*3/ul": 1.0,
    "10^3/ul": 1.0,
    "10*3/mm3": 1.0,
    "10^3/mm3": 1.0,
    "k/ul": 1.0,
    "/ul": 0.001,
    "/mm3": 0.001,
    "{cells}/ul": 0.001,
    "cells/ul": 0.001,
    "10*6/ml": 1.0,
    "10*6/l": 0.001,
}
_HAEMOGLOBIN = {  # to g/dL
    "g/dl": 1.0,
    "g/100ml": 1.0,
    "g/l": 0.1,
    "mg/dl": 0.001,
    "mmol/l": HAEMOGLOBIN_G_DL_PER_MMOL_L,
}
_CREATININE = {  # to mg/dL
    "mg/dl": 1.0,
    "mg/l": 0.1,
    "umol/l": 1 / CREATININE_UMOL_PER_MG_DL,
    "µmol/l": 1 / CREATININE_UMOL_PER_MG_DL,
    "mmol/l": 1000 / CREATININE_UMOL_PER_MG_DL,
}
# Heights and weights in exactly the units contract §1.1 lists; any other (``mm``, a printed ``lb``)
# makes the value unusable, so the reason names it instead of a guess deciding.
_LENGTH = {"cm": 1.0, "m": 100.0, "[in_i]": 2.54}  # to cm
_MASS = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237}  # to kg
_HCG = {"[iu]/l": 1.0, "iu/l": 1.0, "m[iu]/ml": 1.0, "miu/ml": 1.0, "[iu]/ml": 1000.0}  # to IU/L
_GFR = {  # to mL/min/1.73 m2
    "ml/min/{1.73_m2}": 1.0,
    "ml/min/1.73m2": 1.0,
    "ml/min/1.73.m2": 1.0,
    "ml/min/1.73_m2": 1.0,
    "ml/min/{1.73m2}": 1.0,
    "ml/min": 1.0,
}
_PERCENT = {"%": 1.0}
_SCORE = {"": 1.0, "1": 1.0, "{score}": 1.0, "{points}": 1.0}

DIMENSIONS: dict[str, dict[str, float]] = {
    "cell_count": _CELL_COUNT,
    "haemoglobin": _HAEMOGLOBIN,
    "creatinine": _CREATININE,
    "length": _LENGTH,
    "mass": _MASS,
    "hcg": _HCG,
    "gfr": _GFR,
    "percent": _PERCENT,
    "score": _SCORE,
}
CANONICAL = {
    "cell_count": "×10⁹/L",
    "haemoglobin": "g/dL",
    "creatinine": "mg/dL",
    "length": "cm",
    "mass": "kg",
    "hcg": "IU/L",
    "gfr": "mL/min/1.73 m²",
    "percent": "%",
    "score": "points",
}


def convert(quantity: Measured, dimension: str) -> float | None:
    """The value in the dimension's canonical unit, or None when the unit is not known for it."""
    factor = DIMENSIONS[dimension].get(quantity.unit.strip().lower().replace(" ", ""))
    if factor is None:
        return None
    return quantity.value * factor


# --- one human form of a unit, for every reason, page and e-mail --------------------------------------

_POWER_OF_TEN = re.compile(r"^10[*^](-?\d+)")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_WRITTEN = {  # UCUM's bracketed and curly-braced atoms, as a clinician writes them
    "[iu]": "IU", "[lb_av]": "lb", "[in_i]": "in", "{1.73_m2}": "1.73 m²", "{cells}": "cells",
    "{score}": "points", "{points}": "points",
}
_ATOM = re.compile(r"\[[^\]]*\]|\{[^}]*\}")
_MICRO = re.compile(r"(?<![A-Za-z])u(?=(?:mol|g|L|l)\b)")
_SQUARED = re.compile(r"(?<=[a-z])([23])\b")
_UCUM_TOKEN = re.compile(r"[^\s',;()]*(?:10[*^]-?\d+|\[[^\]\s]*\]|\{[^}\s]*\}|(?<![A-Za-z])u(?:mol|g|L|l)\b|mm3\b)"
                         r"[^\s',;()]*")


def human(unit: str) -> str:
    """A unit as a clinician writes it: ``10*9/L`` is ``×10⁹/L``, ``umol/L`` is ``µmol/L``,
    ``mL/min/{1.73_m2}`` is ``mL/min/1.73 m²``; a unit not recognised is shown as it came."""
    shown = _POWER_OF_TEN.sub(lambda m: "×10" + m[1].translate(_SUPERSCRIPT), unit.strip())
    shown = _ATOM.sub(lambda m: _WRITTEN.get(m[0].lower(), m[0]), shown)
    shown = _MICRO.sub("µ", shown)
    return _SQUARED.sub(lambda m: m[1].translate(_SUPERSCRIPT), shown) if "/" in shown else shown


def in_human_units(text: str) -> str:
    """``text`` with every UCUM unit in it written by ``human``: reasons stored before units were
    written this way read the same as new ones on the pages and in e-mails."""
    return _UCUM_TOKEN.sub(lambda m: human(m[0]), text)
