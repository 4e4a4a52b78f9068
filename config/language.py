"""The languages of the interface (contract §18): the catalogs, which language a reader gets, and how
each language writes a reason, a date and a number.

The catalogs are gettext ``.po`` files under ``config/locale/<language>/LC_MESSAGES/messages.po``, one
catalog for the pages, the alert texts and the reasons; a message's id is its English text. They
are read from the ``.po`` and compiled in memory the first time a language is used, so a fresh clone
and an installed package need no build step (``make messages`` extracts and updates them; ``make
compile-messages`` checks they compile). English is the ids themselves.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from domain.wording import ENGLISH, Said, Writer, from_json, written

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("en", "fr")
DEFAULT = "en"
NAMES = {"en": "English", "fr": "Français"}
"""Each language in its own words (the selector)."""

_current: ContextVar[str] = ContextVar("myocit_language", default=DEFAULT)


def supported(language: str | None) -> str | None:
    """``language`` as one of ours (``fr-FR`` is ``fr``), else None."""
    if not language:
        return None
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first language of an ``Accept-Language`` header we write, by its weights; None if none."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                weight = float(match[1])
            except ValueError:
                weight = 0.0
        language = supported(tag)
        if language and weight > 0:
            ranked.append((-weight, index, language))
    return min(ranked)[2] if ranked else None


def chosen(*candidates: str | None, default: str = DEFAULT) -> str:
    """The first candidate we write, else ``default`` (``MYOCIT_LANGUAGE``), else English."""
    for candidate in candidates:
        language = supported(candidate)
        if language:
            return language
    return supported(default) or DEFAULT


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The language's catalog, compiled in memory from its ``.po`` (English: the ids themselves)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str, language: str | None = None) -> str:
    return translations(language or _current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int, language: str | None = None) -> str:
    return translations(language or _current.get()).ngettext(singular, plural, n)


def current() -> str:
    """The language of the page being written (set by the page renderer and the pages' middleware)."""
    return _current.get()


def using(language: str):
    """Make ``language`` the current one; returns the token to restore the previous one."""
    return _current.set(language)


def restore(token) -> None:
    _current.reset(token)


# Dates, numbers and figures as each language writes them.


def day(value: date | None, language: str) -> str:
    """A date for a reader: ISO in English (as the service has always written it), "3 décembre 2026"
    in French."""
    if value is None:
        return ""
    if language == DEFAULT:
        return value.isoformat()
    return format_date(value, format="long", locale=language)


def moment(value: datetime | None, language: str, zone) -> str:
    """A time for a reader at the sites' zone, the zone named (English as ``config.clock.shown``)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(zone)
    return gettext("{day} at {time}", language).format(day=day(local.date(), language),
                                                        time=local.strftime("%H:%M %Z"))


def number(value: float | int, language: str) -> str:
    return format_decimal(value, locale=language, decimal_quantization=False)


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def figures(text: str, language: str) -> str:
    """A value as written in English ("7.2 g/dL") with the language's decimal sign ("7,2 g/dL")."""
    if language == DEFAULT:
        return text
    sign = Locale.parse(language).number_symbols.get("latn", {}).get("decimal", ".")
    return _DECIMAL_POINT.sub(sign, text)


@lru_cache(maxsize=None)
def writer(language: str) -> Writer:
    """How ``language`` writes a reason (``domain.wording``): its catalog, its dates, its figures."""
    if language == DEFAULT:
        return ENGLISH
    catalog = translations(language)
    return Writer(catalog.gettext, lambda value: day(value, language), lambda text: figures(text, language))


def reason(message: "Said | str | Mapping", language: str) -> str:
    """A reason in ``language``: a message (or its stored JSON) written there; a plain text stored
    before reasons were messages is translated when the catalog knows it, else kept as it is."""
    said = from_json(message) if isinstance(message, Mapping) else message
    if isinstance(said, str):
        return said if language == DEFAULT else translations(language).gettext(said)
    return written(said, writer(language))


def screening_in(result: Mapping, reasons: list | None, language: str) -> dict:
    """A stored screening's JSON (§3) with its reasons written in ``language``; every other field the
    same. Without stored messages (a screening stored before them) the reasons are the stored text."""
    body = dict(result)
    if language == DEFAULT or not isinstance(body.get("criteria"), list):
        return body
    messages = reasons if reasons and len(reasons) == len(body["criteria"]) else None
    body["criteria"] = [
        {**item, "reason": reason(messages[index] if messages else item.get("reason") or "", language)}
        if isinstance(item, Mapping) and item.get("reason") is not None else item
        for index, item in enumerate(body["criteria"])
    ]
    return body


def change(from_status: str | None, to_status: str, language: str) -> str:
    """An alert's change in words (``domain.alerting.change_said``) in ``language``."""
    to = gettext(to_status, language)
    if from_status is None:
        return gettext("new candidate: {status}", language).format(status=to)
    return f"{gettext(from_status, language)} → {to}"


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def sentence_in(text: str, templates, language: str, words: tuple[str, ...] = ()) -> str:
    """``text``, made by the service from one of ``templates`` (English, ``{name}`` placeholders), in
    ``language``: its values found in the English and placed in the translation, a date (ISO) written
    as the language writes dates, and the values of the placeholders named in ``words`` (a status, a
    role, or a list of them "a, b") translated by the catalog; else ``text`` as the catalog has it."""
    if language == DEFAULT:
        return text
    for template in templates:
        names = re.findall(r"\{(\w+)\}", template)
        pattern = "".join(f"(?P<{part}>.+?)" if index % 2 else re.escape(part)
                          for index, part in enumerate(re.split(r"\{(\w+)\}", template)))
        found = re.fullmatch(pattern, text)
        if found and names:
            values = {name: _value_in(value, name in words, language) for name, value in found.groupdict().items()}
            return gettext(template, language).format(**values)
    return gettext(text, language)


def _value_in(value: str, is_word: bool, language: str) -> str:
    if _ISO_DAY.fullmatch(value):
        try:
            return day(date.fromisoformat(value), language)
        except ValueError:
            return value
    if is_word:
        return ", ".join(gettext(word, language) for word in value.split(", "))
    return value
