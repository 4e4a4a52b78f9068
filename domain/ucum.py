"""Which units a reason may show: UCUM codes, never a lab's free text.

A unit arrives as a UCUM code, as what a lab prints (``G/L``), or as free text (HL7 OBX-6's text
component, FHIR ``Quantity.unit`` without a code), which may carry anything, a name included. A reason
is stored, shown on the pages and sent in alert emails and webhooks, so it shows a unit only when the
unit has the shape of a UCUM code: UCUM's characters, no spaces, short, and either a symbol of a few
letters or an expression (digits, ``/``, ``.``, brackets, ``%``). Anything else is not shown.
"""

from __future__ import annotations

import re

_UCUM_CHARACTERS = re.compile(r"[0-9A-Za-zµ.\/*^%\[\]{}()_'+\-]{1,24}")
_EXPRESSION_SIGNS = re.compile(r"[0-9.\/*^%\[\]{}()_]")
_ANNOTATION = re.compile(r"\{([^}]*)\}")
_LONGEST_SYMBOL = 4


def shown_unit(unit: str) -> str | None:
    """The unit when a reason may show it (the shape of a UCUM code), else None."""
    unit = unit.strip()
    if not _UCUM_CHARACTERS.fullmatch(unit):
        return None
    if any(len(annotation) > 12 for annotation in _ANNOTATION.findall(unit)):
        return None
    if len(unit) > _LONGEST_SYMBOL and not _EXPRESSION_SIGNS.search(unit):
        return None  # a word, not a unit symbol
    return unit


def unit_named(unit: str) -> str:
    """How a reason names a result's unit that cannot be used: quoted, or why it is not shown."""
    if not unit.strip():
        return "no unit"
    shown = shown_unit(unit)
    return f"'{shown}'" if shown is not None else "a unit given as free text (not shown)"
