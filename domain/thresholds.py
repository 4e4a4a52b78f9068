"""Whether a result lies below a threshold when the lab reported it with a comparator (contract §1.1).

A value with a comparator stands for every value it allows: ``<0.3`` for anything under 0.3,
``<=0.5`` for 0.5 itself and anything under it. It decides a threshold only when every value it
allows lies on one side; otherwise a person must look, told which values the result allows.
"""

from __future__ import annotations

UP_TO = ("<", "<=")
FROM = (">", ">=")


def below(value: float, comparator: str | None, limit: float) -> bool | None:
    """True when every value the result allows is below ``limit``, False when none is, else None.

    ``<0.3`` is below 0.5 and ``>12`` is not below 8; ``<=0.5`` allows 0.5, which is not below 0.5,
    and ``<9`` allows values on both sides of 8, so neither decides.
    """
    if not comparator:
        return value < limit
    if comparator == "<":
        return True if value <= limit else None
    if comparator == "<=":
        return True if value < limit else None
    if comparator in FROM:
        # Whether ">" or ">=", the smallest value allowed is at least ``value``.
        return False if value >= limit else None
    return None


def above(value: float, comparator: str | None, limit: float) -> bool | None:
    """True when every value the result allows is above ``limit``, False when none is, else None."""
    if not comparator:
        return value > limit
    if comparator == ">":
        return True if value >= limit else None
    if comparator == ">=":
        return True if value > limit else None
    if comparator in UP_TO:
        return False if value <= limit else None
    return None


def allowed(comparator: str | None, shown: str) -> str:
    """The values a result allows, in words; ``shown`` is its number and unit (``0.5 ×10⁹/L``)."""
    if comparator == "<":
        return f"any value below {shown}"
    if comparator == "<=":
        return f"any value up to and including {shown}"
    if comparator == ">":
        return f"any value above {shown}"
    if comparator == ">=":
        return f"{shown} or any value above it"
    if comparator:
        return f"values on either side of {shown}"
    return f"exactly {shown}"


def below_in_words(
    value: float, comparator: str | None, limit: float, bound: str, number: str
) -> tuple[bool | None, str]:
    """``below(value, comparator, limit)``, and the words that follow the result in a reason.

    ``bound`` is the limit as shown (``40 mL/min/1.73 m²``), ``number`` the value as shown. Every rule
    with a "below" cut-off says its three outcomes alike, whichever verdict each one gives.
    """
    decided = below(value, comparator, limit)
    if decided is True:
        return True, f"below {bound}"
    if decided is False:
        return False, f"not below {bound}"
    return None, f"allows {allowed(comparator, number)}, so it does not show whether it is below {bound}"
