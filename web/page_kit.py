"""What every page module shares: the templates and how a page is rendered (with its security
headers and the notice of what was just done), the redirect after a form, and the page error. A
child is looked up by the service (``service.pages``), whose ``NotFound`` ``web.errors`` shows.

Page modules import this kit and never one another."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from config.clock import shown
from domain.alerting import change_said
from domain.units import in_human_units

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["human_units"] = in_human_units
# Dates and criterion ids in a reason are kept whole on a line: a browser breaks "2026-12-01" at its hyphens.
_TOKEN = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|(?:INC|EXC)-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b")
templates.env.filters["unbroken"] = lambda text: Markup(_TOKEN.sub(
    lambda m: f'<span class="token">{m[0]}</span>', str(escape(text))))

NOTICES = {
    "attested": "Attestation recorded. The screening is recomputed in the background: reload in a moment.",
    "consent": "Consent decision recorded. Alerts for this child stop once the screening is recomputed.",
    "acknowledged": "Alert acknowledged.",
    "signed-out": "You are signed out.",
    "outcome": "Outcome recorded.",
    "confirmed": "Eligibility confirmed and signed. The signature is kept unchanged; it is flagged if later data "
                 "overturns it.",
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
    context["notice"] = NOTICES.get(request.query_params.get("done", ""))
    context["local"] = lambda at: shown(at, zone) if at else ""
    context["change"] = change_said
    # Criteria are read by their names and sentences (the active version's criteria.yaml), ids beside.
    protocol = request.app.state.rt.protocol
    context["criterion_name"], context["criterion_sentence"] = protocol.criterion_name, protocol.criterion_sentence
    response = templates.TemplateResponse(request, name, context, status_code=code)
    response.headers.update(HEADERS)
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
