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
from domain.wording import Figures, Said, said_as, term


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

    def missing(self) -> Said:
        """Why this result cannot be used, as a clause: absent, empty, or stale."""
        result = self.result
        test = term(self.label)
        if result is None:
            return said_as("no {test} result", test=test)
        if not _carries_value(result):
            return said_as("the latest {test} ({on}) carries no value", test=test, on=result.on)
        return said_as("the latest {test} ({on}) is older than {days} days", test=test, on=result.on,
                       days=self.validity)

    def shown(self) -> Said:
        result = self.usable
        return said_as("{test} {value} on {on}", test=term(self.label), value=described(result),
                       on=result.on)  # type: ignore[union-attr]

    def measured(self, dimension: str) -> Reading | Finding:
        """The value in ``dimension``'s canonical unit (None for a lab's answer alone), else the
        ``unknown`` finding saying why the result cannot be used."""
        result = self.result
        test = term(self.label)
        if result is None:
            return unknown(lambda: said_as("No {test} result", test=test))
        day = result.on
        # Stale is told before empty here, the other way round in missing(): each keeps the reasons
        # its rules have always given.
        if not self.fresh:
            return unknown(
                lambda: said_as("The latest {test} ({on}) is stale: older than {days} days", test=test, on=day,
                                days=self.validity), result
            )
        stale_on = Context.stale_on(result.on, self.validity)
        if result.quantity is None:
            if result.qualitative is None:
                return unknown(lambda: said_as("The {test} of {on} carries no value", test=test, on=day), result)
            return Reading(result, None, stale_on)
        value = convert(result.quantity, dimension)
        if value is None:
            return unknown(
                lambda: said_as("The {test} of {on} is in {unit}, which cannot be converted to {canonical}",
                                test=test, on=day, unit=unit_named(result.quantity.unit),
                                canonical=CANONICAL[dimension]),
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

    def shown(self, unit: str) -> Figures:
        comparator = self.comparator or ""
        return Figures(f"{comparator}{self.value:g} {unit}")


def _carries_value(result: LabResult) -> bool:
    return result.quantity is not None or result.qualitative is not None or bool(result.text)


def described(result: LabResult) -> "Said | Figures":
    """A result as the reason shows it: the value if any, and the lab's answer."""
    quantity = result.quantity
    answer = result.qualitative
    if quantity is not None and answer is not None:
        return said_as("{value} ({answer})", value=Figures(str(quantity)), answer=term(answer.value))
    if quantity is not None:
        return Figures(str(quantity))
    if answer is not None:
        return said_as("{answer}", answer=term(answer.value))
    return Figures(result.text) if result.text else said_as("no value")


def shown_number(value: float) -> str:
    """A value as a reason shows it: at most four decimals, no trailing zeros."""
    return f"{round(value, 4):g}"


def against_limit(
    shown: "Said | str",
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
        return fails(lambda: said_as("{result}, {words}", result=shown, words=words), *facts, changes_on=stale_on)
    if decided is False:
        return passes(lambda: said_as("{result}, {words}", result=shown, words=words), *facts, changes_on=stale_on)
    return review(
        lambda: said_as("{result}: the result {words}: check the exact value with the lab", result=shown,
                        words=words), *facts, changes_on=stale_on
    )

