"""Code lists: which codes a protocol list contains, by exact code, hierarchy prefix or range.

Patterns, per system:
- ``718-7``: that code exactly (LOINC, SNOMED, CVX and local systems);
- ``L04AF*``: every code under that prefix (ATC, ICD-10);
- ``C00-C97``: every code whose leading characters fall in that range, ends included (ICD-10).

Hierarchical systems (ICD-10, ATC) also match a pattern's descendants without a star: ``M33.0``
matches ``M33.00``. Codes are compared upper-cased, without dots, and CVX without leading zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from domain.facts import Code

HIERARCHICAL = frozenset({"icd10", "atc"})


def normalise(system: str, code: str) -> str:
    text = code.strip().upper().replace(".", "")
    if system == "cvx":
        text = text.lstrip("0") or "0"
    return text


@dataclass(frozen=True, slots=True)
class _SystemPart:
    exact: frozenset[str]
    prefixes: frozenset[str]
    prefix_lengths: tuple[int, ...]
    ranges: tuple[tuple[str, str], ...]

    def has(self, text: str) -> bool:
        if text in self.exact:
            return True
        for length in self.prefix_lengths:
            if text[:length] in self.prefixes:
                return True
        for low, high in self.ranges:
            if low <= text[: len(low)] <= high:
                return True
        return False


def _compile(name: str, system: str, patterns: Iterable[str]) -> _SystemPart:
    exact: set[str] = set()
    prefixes: set[str] = set()
    ranges: list[tuple[str, str]] = []
    hierarchical = system in HIERARCHICAL
    for raw in patterns:
        pattern = str(raw).strip()
        if not pattern or pattern == "*":
            raise ValueError(f"code list {name}: empty pattern")
        if pattern.endswith("*"):
            prefixes.add(normalise(system, pattern[:-1]))
        elif hierarchical and "-" in pattern:
            low, _, high = pattern.partition("-")
            low, high = normalise(system, low), normalise(system, high)
            if len(low) != len(high) or low > high:
                raise ValueError(f"code list {name}: bad range {pattern!r}")
            ranges.append((low, high))
        elif hierarchical:
            prefixes.add(normalise(system, pattern))
        else:
            exact.add(normalise(system, pattern))
    lengths = tuple(sorted({len(p) for p in prefixes}))
    return _SystemPart(frozenset(exact), frozenset(prefixes), lengths, tuple(ranges))


class CodeSet:
    """A named list of codes, in one or more code systems."""

    __slots__ = ("name", "_parts")

    def __init__(self, name: str, patterns_by_system: dict[str, list[str]]) -> None:
        self.name = name
        self._parts = {s: _compile(name, s, p) for s, p in patterns_by_system.items()}

    def __contains__(self, code: Code) -> bool:
        part = self._parts.get(code.system)
        return part is not None and part.has(normalise(code.system, code.code))

    def matches(self, codes: tuple[Code, ...]) -> Code | None:
        """The first of ``codes`` in this list, or None."""
        for code in codes:
            if code in self:
                return code
        return None
