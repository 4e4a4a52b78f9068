"""A benchmark's figures over repeated runs: median, range, spread, and each target judged on the median.

The spread, (max - min) / median, says how far one run can be trusted on this machine: a figure whose
spread is larger than its distance to the target is not settled by one run.
"""

from __future__ import annotations

import operator
import statistics
from dataclasses import dataclass

_TESTS = {">=": operator.ge, "<": operator.lt, "<=": operator.le, ">": operator.gt}


@dataclass(frozen=True)
class Figure:
    """One figure a run yields (``key`` in its dict), how to print it and, if it has one, its target
    (``(">=", 0.5)``: met when the median is at least 0.5)."""

    key: str
    label: str
    fmt: str = ",.0f"
    target: tuple[str, float] | None = None

    def show(self, value: float) -> str:
        return format(value, self.fmt)

    def met(self, value: float) -> bool:
        test, bound = self.target
        return _TESTS[test](value, bound)


def summary(figures: list[Figure], runs: list[dict[str, float]]) -> str:
    """The table of every figure some run measured: median, min-max, spread, target, met or not."""
    rows = [("figure", "median", "min-max", "spread", "target", "")]
    for figure in figures:
        values = [run[figure.key] for run in runs if figure.key in run]
        if not values:
            continue
        median = statistics.median(values)
        spread = (max(values) - min(values)) / median if median else 0.0
        target = verdict = ""
        if figure.target is not None:
            target = f"{figure.target[0]} {figure.show(figure.target[1])}"
            verdict = "met" if figure.met(median) else "NOT met"
        span = f"{figure.show(min(values))}-{figure.show(max(values))}"
        rows.append((figure.label, figure.show(median), span, f"{spread:.0%}", target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:5], widths[1:5])]
                       + [row[5]]).rstrip() for row in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)
