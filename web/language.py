"""The reader's language on the pages and the API (contract §18).

Pages: the person's choice (the selector on every page, remembered in a cookie for a year), else
``Accept-Language``, else ``MYOCIT_LANGUAGE``. The API: ``Accept-Language``, else ``MYOCIT_LANGUAGE``,
said back in ``Content-Language``. ``Languages`` sets the current language (``config.language``) for
each request, so the pages' templates and the texts their routes build read it.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from config import language

COOKIE = "myocit_language"
YEAR = 365 * 24 * 3600

router = APIRouter(prefix="/ui", include_in_schema=False)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def for_scope(scope, default: str) -> str:
    """The language of a request: the remembered choice on the pages, else Accept-Language, else the default."""
    chosen = None
    if scope.get("path", "").startswith("/ui"):
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie") or "")
        except Exception:  # an unreadable cookie header is no choice
            cookies = SimpleCookie()
        morsel = cookies.get(COOKIE)
        chosen = morsel.value if morsel is not None else None
    return language.chosen(chosen, language.from_accept_language(_header(scope, b"accept-language")), default=default)


def for_api(request: Request) -> str:
    """The language of an API answer: Accept-Language, else ``MYOCIT_LANGUAGE``."""
    return language.chosen(language.from_accept_language(request.headers.get("accept-language")),
                           default=request.app.state.rt.settings.language)


class Languages:
    """ASGI middleware: the request's language is the current one while it is answered."""

    def __init__(self, app, default=None) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        app = scope.get("app")
        default = app.state.rt.settings.language if app is not None else language.DEFAULT
        token = language.using(for_scope(scope, default))
        try:
            await self.app(scope, receive, send)
        finally:
            language.restore(token)


def _back_to(target: str | None) -> str:
    """Only a page of ours (``/ui...``), never another site."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


@router.get("/language")
def choose_language(request: Request, to: str = "", back: str = "/ui"):
    """The selector: remember the choice for a year and go back to the page it was made on."""
    response = RedirectResponse(_back_to(back), status_code=303, headers={"Cache-Control": "no-store"})
    chosen = language.supported(to)
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=YEAR, path="/ui", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
