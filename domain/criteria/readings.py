"""The newest result of a kind and whether it is usable, shared by the rules that read results.

"The most recent usable result wins (by effective time, never by arrival order)" and "a unit that
cannot be converted makes the result unusable: the criterion is unknown and its reason names the
unit" (contract §1). A result older than its validity is stale, which is unknown too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from domain.context import Context
from domain.criteria.base import fails, passes, review, unknown
from domain.facts import LabResult
from domain.thresholds import below_in_words
from domain.ucum import unit_named
from domain.units import CANONICAL, convert
from domain.verdicts import Finding


class Latest(NamedTuple):
    """The newest result in a code list as of ``as_of``; ``usable`` when it is fresh and carries a value."""

    label: str
    validity: int | None
    result: LabResult | None
    fresh: bool
    usable: LabResult | None

    @property
    def stale_on(self) -> date | None:
        """The first day the usable result is stale (None if there is none, or it never is)."""
        return Context.stale_on(self.usable.on, self.validity) if self.usable is not None else None

    def missing(self) -> str:
        """Why this result cannot be used, as a clause: absent, empty, or stale."""
        result = self.result
        if result is None:
            return f"no {self.label} result"
        if not _carries_value(result):
            return f"the latest {self.label} ({result.on.isoformat()}) carries no value"
        return f"the latest {self.label} ({result.on.isoformat()}) is older than {self.validity} days"

    def shown(self) -> str:
        result = self.usable
        return f"{self.label} {described(result)} on {result.on.isoformat()}"  # type: ignore[union-attr]

    def measured(self, dimension: str) -> Reading | Finding:
        """The value in ``dimension``'s canonical unit (None for a lab's answer alone), else the
        ``unknown`` finding saying why the result cannot be used."""
        result = self.result
        if result is None:
            return unknown(lambda: f"No {self.label} result")
        day = result.on.isoformat()
        # Stale is told before empty here, the other way round in missing(): each keeps the reasons
        # its rules have always given.
        if not self.fresh:
            return unknown(
                lambda: f"The latest {self.label} ({day}) is stale: older than {self.validity} days", result
            )
        stale_on = Context.stale_on(result.on, self.validity)
        if result.quantity is None:
            if result.qualitative is None:
                return unknown(lambda: f"The {self.label} of {day} carries no value", result)
            return Reading(result, None, stale_on)
        value = convert(result.quantity, dimension)
        if value is None:
            return unknown(
                lambda: (f"The {self.label} of {day} is in {unit_named(result.quantity.unit)}, "
                f"which cannot be converted to {CANONICAL[dimension]}"),
                result,
            )
        return Reading(result, value, stale_on)


def latest_result(ctx: Context, code_list: str, label: str, validity: int | None) -> Latest:
    """The newest result in ``code_list``, named ``label`` in reasons, usable for ``validity`` days."""
    result: LabResult | None = ctx.latest(code_list)
    fresh = result is not None and ctx.fresh(result.on, validity)
    usable = result if fresh and _carries_value(result) else None  # type: ignore[arg-type]
    return Latest(label, validity, result, fresh, usable)


@dataclass(frozen=True, slots=True)
class Reading:
    """A usable result measured in its dimension's canonical unit."""

    result: LabResult
    value: float | None
    """In the dimension's canonical unit; None for a qualitative result."""
    stale_on: date | None

    @property
    def comparator(self) -> str | None:
        return self.result.quantity.comparator if self.result.quantity else None

    def shown(self, unit: str) -> str:
        comparator = self.comparator or ""
        return f"{comparator}{self.value:g} {unit}"


def _carries_value(result: LabResult) -> bool:
    return result.quantity is not None or result.qualitative is not None or bool(result.text)


def described(result: LabResult) -> str:
    """A result as the reason shows it: the value if any, and the lab's answer."""
    quantity = result.quantity
    answer = result.qualitative
    if quantity is not None and answer is not None:
        return f"{quantity} ({answer.value})"
    if quantity is not None:
        return str(quantity)
    if answer is not None:
        return answer.value
    return result.text or "no value"


def shown_number(value: float) -> str:
    """A value as a reason shows it: at most four decimals, no trailing zeros."""
    return f"{round(value, 4):g}"


def against_limit(
    shown: str,
    value: float,
    comparator: str | None,
    limit: float,
    unit: str,
    facts: tuple,
    stale_on: date | None,
) -> Finding:
    """Below ``limit`` fails, not below passes; a comparator that allows both needs review (contract §1.1).

    Every laboratory cut-off of the protocol reads "below", so they all decide here: ``<=0.5``
    against "below 0.5" allows 0.5 itself, and the reason says so rather than guessing.
    """
    decided, words = below_in_words(value, comparator, limit, f"{limit:g} {unit}", f"{shown_number(value)} {unit}")
    if decided is True:
        return fails(lambda: f"{shown}, {words}", *facts, changes_on=stale_on)
    if decided is False:
        return passes(lambda: f"{shown}, {words}", *facts, changes_on=stale_on)
    return review(
        lambda: f"{shown}: the result {words}: check the exact value with the lab", *facts, changes_on=stale_on
    )

