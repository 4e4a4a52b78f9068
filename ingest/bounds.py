"""What no message may carry, whatever its format (contract §13, "Dates and sizes").

Each bound exists because something downstream cannot hold what lies beyond it: a date in year 1 or
9999 breaks age arithmetic, a birth after the day of receipt makes no child, a document nested
hundreds deep exhausts the validators' recursion, and a name longer than its column is refused by
PostgreSQL. Refusing such input up front, with a message that names the field and never its value,
is what keeps every path free of a 500. A NUL character is refused too: PostgreSQL stores no NUL in
text, so a message carrying one could be acknowledged by one store and refused by another.
"""

from __future__ import annotations

from datetime import date

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
MAX_JSON_DEPTH = 64
MAX_ID = 64
"""FHIR ids are at most 64 characters; so are sites."""
MAX_IDENTIFIER = 255
MAX_SOURCE = 300
MAX_CONTROL_ID = 120
DATE_FIELDS = ("on", "abated", "until")


def date_in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def out_of_range_dates(fact) -> list[str]:
    """The date fields of ``fact`` outside 1900-2200 (names only)."""
    return [name for name in DATE_FIELDS
            if isinstance(getattr(fact, name, None), date) and not date_in_range(getattr(fact, name))]


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``data`` (parsed JSON) nests objects and arrays deeper than ``limit``."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


def contains_nul(data) -> bool:
    """True when a string of ``data`` (parsed JSON: keys and values) holds a NUL character."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
