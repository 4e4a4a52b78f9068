"""The sign-in page (contract §13, §14): the provider's button, and the token form when
``MYOCIT_UI_TOKEN_SIGNIN`` offers it, with the sentence of what went wrong."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.page_kit import render
from web.session import LOGIN_COOKIE, login_value, new_csrf


def login_page(request: Request, problem: str | None = None, status: int = 200) -> HTMLResponse:
    csrf = new_csrf()
    settings = request.app.state.rt.settings
    response = render(request, "login.html", status, login_csrf=csrf, problem=problem, caller=None,
                      provider_label=settings.oidc_label if settings.oidc_configured else None,
                      token_signin=settings.token_signin_offered)
    response.set_cookie(LOGIN_COOKIE, login_value(request, csrf), max_age=3600, path="/ui", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


def address_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
