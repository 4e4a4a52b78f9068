"""Whether a result lies below a threshold when the lab reported it with a comparator (contract §1.1).

A value with a comparator stands for every value it allows: ``<0.3`` for anything under 0.3,
``<=0.5`` for 0.5 itself and anything under it. It decides a threshold only when every value it
allows lies on one side; otherwise a person must look, told which values the result allows.
"""

from __future__ import annotations

from domain.wording import Figures, Said, said_as

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


def allowed(comparator: str | None, shown: str) -> Said:
    """The values a result allows, in words; ``shown`` is its number and unit (``0.5 ×10⁹/L``)."""
    value = Figures(shown)
    if comparator == "<":
        return said_as("any value below {value}", value=value)
    if comparator == "<=":
        return said_as("any value up to and including {value}", value=value)
    if comparator == ">":
        return said_as("any value above {value}", value=value)
    if comparator == ">=":
        return said_as("{value} or any value above it", value=value)
    if comparator:
        return said_as("values on either side of {value}", value=value)
    return said_as("exactly {value}", value=value)


def below_in_words(
    value: float, comparator: str | None, limit: float, bound: str, number: str
) -> tuple[bool | None, Said]:
    """``below(value, comparator, limit)``, and the words that follow the result in a reason.

    ``bound`` is the limit as shown (``40 mL/min/1.73 m²``), ``number`` the value as shown. Every rule
    with a "below" cut-off says its three outcomes alike, whichever verdict each one gives.
    """
    decided = below(value, comparator, limit)
    shown = Figures(bound)
    if decided is True:
        return True, said_as("below {limit}", limit=shown)
    if decided is False:
        return False, said_as("not below {limit}", limit=shown)
    return None, said_as("allows {values}, so it does not show whether it is below {limit}",
                         values=allowed(comparator, number), limit=shown)
