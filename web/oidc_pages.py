"""Signing in to the pages through the hospital's OpenID provider (contract §14): ``/ui/oidc/login``
sends the browser to the provider, ``/ui/oidc/callback`` brings it back. The flow is
``service.oidc``; a failure shows the sign-in page with its sentence."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from delivery.oidc_http import HttpxProviderHttp
from service import oidc
from web.page_kit import HEADERS, PageError, see_other
from web.session import COOKIE, LOGIN_COOKIE, MAX_AGE, session_cookie
from web.signin_page import address_of, login_page

router = APIRouter(prefix="/ui/oidc", include_in_schema=False)
BROWSER_COOKIE = "myocit_oidc"


def provider_of(request: Request) -> oidc.Provider | None:
    """The configured provider, built once per process; None when none is configured."""
    state = request.app.state
    if not hasattr(state, "oidc_provider"):
        settings = state.rt.settings
        state.oidc_provider = (oidc.Provider(oidc.OidcSettings.of(settings), HttpxProviderHttp())
                               if settings.oidc_configured else None)
    return state.oidc_provider


def _configured(request: Request) -> oidc.Provider:
    provider = provider_of(request)
    if provider is None:
        raise PageError(404, "No OpenID provider is configured for these pages.")
    return provider


@router.get("/login")
async def oidc_login(request: Request):
    provider, rt = _configured(request), request.app.state.rt
    try:
        started = await run_in_threadpool(oidc.start_sign_in, provider, rt.uow(), clock=rt.clock)
    except oidc.SignInFailed as failed:
        return login_page(request, failed.sentence, 503)
    response = see_other(started.url)
    # Lax, not strict: the provider sends the browser back here from its own site.
    response.set_cookie(BROWSER_COOKIE, started.browser_secret, max_age=oidc.LOGIN_SECONDS, path="/ui/oidc",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get("/callback")
async def oidc_callback(request: Request, code: str | None = None, state: str | None = None,
                        error: str | None = None):
    provider, rt = _configured(request), request.app.state.rt
    back = oidc.Returned(code, state, error, request.cookies.get(BROWSER_COOKIE), address_of(request))
    try:
        signed_in = await run_in_threadpool(oidc.finish_sign_in, provider, back, rt.uow(), clock=rt.clock)
    except oidc.SignInFailed as failed:
        response = login_page(request, failed.sentence, 401)
        response.delete_cookie(BROWSER_COOKIE, path="/ui/oidc")
        return response
    response = _continue_to("/ui")
    response.set_cookie(COOKIE, session_cookie(request, signed_in.session_id), max_age=MAX_AGE, path="/ui",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(BROWSER_COOKIE, path="/ui/oidc")
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


def _continue_to(url: str) -> HTMLResponse:
    """A page that moves on by itself: the browser arrived from the provider's site, so a redirect
    would not carry the strict session cookie; a navigation from this page does."""
    target = escape(url)
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title>'
            f'<meta http-equiv="refresh" content="0;url={target}"></head>'
            f'<body><main><p><a href="{target}">Continue to myocit</a></p></main></body></html>')
    response = HTMLResponse(body)
    response.headers.update(HEADERS)
    return response
