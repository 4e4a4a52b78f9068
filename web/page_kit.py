"""What every page module shares: the templates and how a page is rendered (with its security
headers and the notice of what was just done), the redirect after a form, and the page error. A
child is looked up by the service (``service.pages``), whose ``NotFound`` ``web.errors`` shows.

Page modules import this kit and never one another."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from config import language
from config.clock import shown
from domain.units import in_human_units

def N_(message: str) -> str:
    """A text of the catalog, translated where it is shown."""
    return message


HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["human_units"] = in_human_units
# The pages' words come from the catalogs (config/locale) in the request's language (web/language.py).
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message: language.gettext(message), lambda one, many, n: language.ngettext(one, many, n), newstyle=True)
templates.env.filters["word"] = lambda value: language.gettext(str(value)) if value is not None else ""
templates.env.filters["day"] = lambda value: _day(value)
templates.env.filters["number"] = lambda value: language.number(value, language.current())
# Dates and criterion ids in a reason are kept whole on a line: a browser breaks "2026-12-01" at its hyphens.
_TOKEN = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|(?:INC|EXC)-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b")
templates.env.filters["unbroken"] = lambda text: Markup(_TOKEN.sub(
    lambda m: f'<span class="token">{m[0]}</span>', str(escape(text))))

def _day(value) -> str:
    """A date as the page's language writes it (ISO in English, "3 décembre 2026" in French)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return language.day(value, language.current())


NOTICES = {
    "attested": N_("Attestation recorded. The screening is recomputed in the background: reload in a moment."),
    "consent": N_("Consent decision recorded. Alerts for this child stop once the screening is recomputed."),
    "acknowledged": N_("Alert acknowledged."),
    "signed-out": N_("You are signed out."),
    "outcome": N_("Outcome recorded."),
    "confirmed": N_("Eligibility confirmed and signed. The signature is kept unchanged; it is flagged if later data "
                    "overturns it."),
}
"""What a page says after a form succeeded, by the ``done`` of the address it was sent to."""

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class PageError(Exception):
    """A page that cannot be shown; rendered as HTML (401 becomes a redirect to sign-in)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render(request: Request, name: str, code: int = 200, **context) -> HTMLResponse:
    zone = ZoneInfo(request.app.state.rt.settings.timezone)
    context.setdefault("caller", getattr(request.state, "caller", None))
    context.setdefault("csrf", getattr(request.state, "csrf", None))
    notice = NOTICES.get(request.query_params.get("done", ""))
    context["notice"] = language.gettext(notice) if notice else None
    lang = language.current()
    context["lang"], context["languages"] = lang, language.NAMES
    context["here"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context["local"] = (lambda at: shown(at, zone) if at else "") if lang == language.DEFAULT else \
        (lambda at: language.moment(at, lang, zone) if at else "")
    context["change"] = lambda before, after: language.change(before, after, lang)
    # Criteria are read by their names and sentences (the active version's criteria.yaml), ids beside.
    protocol = request.app.state.rt.protocol
    context["criterion_name"] = lambda cid: protocol.criterion_name(cid, lang)
    context["criterion_sentence"] = lambda cid: protocol.criterion_sentence(cid, lang)
    response = templates.TemplateResponse(request, name, context, status_code=code)
    response.headers.update(HEADERS)
    response.headers["Content-Language"] = lang
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
