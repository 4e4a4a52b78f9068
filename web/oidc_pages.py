"""Signing in to the pages through the hospital's OpenID provider (contract §14): ``/ui/oidc/login``
sends the browser to the provider, ``/ui/oidc/callback`` brings it back. The flow is
``service.oidc``; a failure shows the sign-in page with its sentence."""

from __future__ import annotations

from html import escape

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from config import language
from delivery.oidc_http import HttpxProviderHttp
from domain.identity import Caller
from service import confirmations, oidc
from service.commands import ConfirmEligibility
from web.page_kit import HEADERS, N_, PageError, see_other
from web.errors import failing_as
from web.session import COOKIE, LOGIN_COOKIE, MAX_AGE, check_csrf, session_cookie
from web.session import page_caller as role
from web.service_sentences import said_at_sign_in
from web.signin_page import address_of, login_page

router = APIRouter(prefix="/ui/oidc", include_in_schema=False)
BROWSER_COOKIE = "myocit_oidc"
NEEDS_DATE = N_("The confirmation needs the screening date (YYYY-MM-DD).")


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
        raise PageError(404, language.gettext("No OpenID provider is configured for these pages."))
    return provider


@router.get("/login")
async def oidc_login(request: Request):
    provider, rt = _configured(request), request.app.state.rt
    try:
        started = await run_in_threadpool(oidc.start_sign_in, provider, rt.uow(), clock=rt.clock)
    except oidc.SignInFailed as failed:
        return login_page(request, said_at_sign_in(failed.sentence), 503)
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
        response = login_page(request, said_at_sign_in(failed.sentence), 401)
        response.delete_cookie(BROWSER_COOKIE, path="/ui/oidc")
        return response
    if isinstance(signed_in, oidc.SigningProven):
        return await run_in_threadpool(_sign, request, signed_in)
    response = continue_to("/ui")
    response.set_cookie(COOKIE, session_cookie(request, signed_in.session_id), max_age=MAX_AGE, path="/ui",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(BROWSER_COOKIE, path="/ui/oidc")
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


def continue_to(url: str, title: str = N_("Signed in"), words: str = N_("Continue to myocit")) -> HTMLResponse:
    """A page that moves on by itself. Back from the provider's site, a redirect would not carry the
    strict session cookie, and after a form, the pages' ``form-action 'self'`` forbids redirecting to
    the provider; a navigation from this page is neither. ``title`` and ``words`` are catalog ids,
    written in the page's language."""
    target, lang = escape(url), language.current()
    body = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<title>{escape(language.gettext(title))}</title>'
            f'<meta http-equiv="refresh" content="0;url={target}"></head>'
            f'<body><main><p><a href="{target}">{escape(language.gettext(words))}</a></p></main></body></html>')
    response = HTMLResponse(body)
    response.headers.update(HEADERS)
    return response


@router.post("/sign", dependencies=[failing_as("Not signed")])
async def begin_signing(request: Request, patient_id: str = Form(""), as_of: str = Form(""),
                        meaning: str = Form(""), csrf: str = Form(""),
                        caller: Caller = Depends(role("investigator", admin=False))):
    """The confirmation form of a signer signed in through the provider: off to the provider to enter
    their credentials again (contract §9, §14)."""
    check_csrf(request, csrf)
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise PageError(400, language.gettext(NEEDS_DATE)) from None
    provider, rt = _configured(request), request.app.state.rt
    signing = {"patient": patient_id, "as_of": day.isoformat(), "meaning": meaning[:2000]}
    try:
        started = await run_in_threadpool(oidc.start_signing, provider, request.state.session_id, signing,
                                          rt.uow(), clock=rt.clock)
    except oidc.SignInFailed as failed:
        raise PageError(403, said_at_sign_in(failed.sentence)) from None
    response = see_other(started.url)
    response.set_cookie(BROWSER_COOKIE, started.browser_secret, max_age=oidc.LOGIN_SECONDS, path="/ui/oidc",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _sign(request: Request, proven: oidc.SigningProven) -> HTMLResponse:
    rt = request.app.state.rt
    command = ConfirmEligibility(proven.patient_id, proven.as_of, proven.meaning, "", proven.signer,
                                 proven.reauthenticated, language=language.current())
    confirmations.confirm_eligibility(command, rt.uow(), clock=rt.clock)
    response = continue_to(f"/ui/patients/{quote(proven.patient_id, safe='')}?done=confirmed")
    response.delete_cookie(BROWSER_COOKIE, path="/ui/oidc")
    return response
