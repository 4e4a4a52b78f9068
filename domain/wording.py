"""A reason as a message: its id and its arguments, written in any language later (contract §18).

A rule says what it found as ``Said(id, args)``: ``id`` is the English sentence with named
placeholders (``"{test} {value} on {on}, below {limit}"``), which is also the message id of the
catalogs (``config/locale/``); ``args`` are the values it names, kept typed so that each language
writes them its own way: a date (``date``), a figure with its unit (``Figures``: "7.2 g/dL", "7,2 g/dL"
in French), a word of the interface (``Term``, translated by the catalog), another message (``Said``),
or plain text kept as it is (a code, an id, a unit's name).

Writing is pure and takes how to translate, date and figure (``Writer``): ``english`` writes the text
the service has always stored and signed (dates ISO); ``config/language.py`` gives the others. The
message, as JSON (``to_json`` / ``from_json``), is stored with the screening, so a stored screening is
written in any language without being evaluated again.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, NamedTuple


class Figures(NamedTuple):
    """A value as the English reason shows it ("7.2 g/dL", "<=0.5 ×10⁹/L"); other languages change
    only its decimal point."""

    text: str

    def __str__(self) -> str:
        return self.text


class Term(NamedTuple):
    """A word or phrase of the interface inside a reason ("blood CMV PCR"): translated by the catalog."""

    text: str

    def __str__(self) -> str:
        return self.text


class Said(NamedTuple):
    """A message: the English sentence with ``{name}`` placeholders, and the values it names."""

    id: str
    args: tuple[tuple[str, Any], ...] = ()
    capital: bool = False
    """Write the first letter as a capital (a clause used as a sentence)."""

    def __str__(self) -> str:
        return english(self)


def said_as(template: str, **args: Any) -> Said:
    """The message ``template`` (its English text and catalog id) with ``args``."""
    return Said(template, tuple(args.items()))


def term(text: str) -> Term:
    return Term(text)


def capitalised(message: "Said | str") -> "Said | str":
    """A clause used as a sentence."""
    if isinstance(message, Said):
        return message._replace(capital=True)
    return message[:1].upper() + message[1:]


class Writer(NamedTuple):
    """How one language writes a message: the catalog's translation of an id or a term, a date, figures."""

    translate: Callable[[str], str]
    day: Callable[[date], str]
    figures: Callable[[str], str]


ENGLISH = Writer(lambda text: text, date.isoformat, lambda text: text)


def written(message: "Said | str", writer: Writer) -> str:
    """The message in the writer's language; plain text (a reason stored before messages) as it is."""
    if not isinstance(message, Said):
        return message
    values = {name: _value(value, writer) for name, value in message.args}
    text = writer.translate(message.id).format(**values)
    return text[:1].upper() + text[1:] if message.capital else text


def english(message: "Said | str") -> str:
    return written(message, ENGLISH)


def _value(value: Any, writer: Writer) -> str:
    if isinstance(value, Said):
        return written(value, writer)
    if isinstance(value, date):
        return writer.day(value)
    if isinstance(value, Figures):
        return writer.figures(value.text) if isinstance(value.text, str) else _value(value.text, writer)
    if isinstance(value, Term):
        return writer.translate(value.text) if isinstance(value.text, str) else _value(value.text, writer)
    if isinstance(value, str):
        return writer.figures(value) if _NUMBER.fullmatch(value) else value  # "2.00" as a figure
    return writer.figures(str(value))  # a number or a quantity


def to_json(message: "Said | str") -> dict | str:
    """A message as stored: ``{"id", "args"}`` with each value tagged by its kind; plain text as it is."""
    if not isinstance(message, Said):
        return message
    body: dict = {"id": message.id, "args": {name: _encoded(value) for name, value in message.args}}
    if message.capital:
        body["capital"] = True
    return body


def from_json(body: Any) -> "Said | str":
    if not isinstance(body, dict):
        return str(body)
    args = tuple((name, _decoded(value)) for name, value in (body.get("args") or {}).items())
    return Said(str(body["id"]), args, bool(body.get("capital")))


def _encoded(value: Any) -> Any:
    if isinstance(value, Said):
        return {"said": to_json(value)}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Figures):
        return _encoded(value.text) if not isinstance(value.text, str) else {"figures": value.text}
    if isinstance(value, Term):
        return _encoded(value.text) if not isinstance(value.text, str) else {"term": value.text}
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return {"figures": str(value)}


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        if "said" in value:
            return from_json(value["said"])
        if "date" in value:
            return date.fromisoformat(value["date"])
        if "figures" in value:
            return Figures(value["figures"])
        if "term" in value:
            return Term(value["term"])
    return value


PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"[<>=≤≥]*\d+\.\d+")


def placeholders(template: str) -> set[str]:
    """The names a message id places (a translation must place the same)."""
    return set(PLACEHOLDER.findall(template))


def joined(parts, separator: str = "; ") -> "Said | str":
    """Clauses one after another (``"; "`` between them, or ``", "``), each kept a message."""
    template = "{first}" + separator + "{then}"
    items = list(parts)
    if not items:
        return ""
    message = items[0]
    for part in items[1:]:
        message = said_as(template, first=message, then=part)
    return message
