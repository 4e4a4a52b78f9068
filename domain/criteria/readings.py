"""Reading the latest usable result of a kind, shared by the laboratory rules.

"The most recent usable result wins (by effective time, never by arrival order)" and "a unit that
cannot be converted makes the result unusable: the criterion is unknown and its reason names the
unit" (contract §1). A result older than its validity is stale, which is unknown too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.context import Context
from domain.criteria.base import unknown
from domain.facts import LabResult, Qualitative
from domain.units import CANONICAL, convert
from domain.verdicts import Finding


@dataclass(frozen=True, slots=True)
class Reading:
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


def latest_reading(
    ctx: Context,
    code_list: str,
    label: str,
    validity_days: int | None,
    dimension: str | None = None,
) -> Reading | Finding:
    """The newest result in ``code_list`` if usable, else the ``unknown`` finding saying why."""
    result: LabResult | None = ctx.latest(code_list)
    if result is None:
        return unknown(f"No {label} result")
    if not ctx.fresh(result.on, validity_days):
        return unknown(
            f"The latest {label} ({result.on.isoformat()}) is stale: older than {validity_days} days",
            result,
        )
    stale_on = ctx.stale_on(result.on, validity_days)
    value = None
    if dimension is not None:
        if result.quantity is None:
            if result.qualitative is None:
                return unknown(f"The {label} of {result.on.isoformat()} carries no value", result)
        else:
            value = convert(result.quantity, dimension)
            if value is None:
                return unknown(
                    f"The {label} of {result.on.isoformat()} is in '{result.quantity.unit}', "
                    f"which cannot be converted to {CANONICAL[dimension]}",
                    result,
                )
    return Reading(result, value, stale_on)


def qualitative(result: LabResult) -> Qualitative | None:
    """The lab's positive/negative/equivocal answer for a result, if it gave one."""
    return result.qualitative
