"""The one place where what went wrong becomes an answer: an OperationOutcome for the API, the error
page for ``/ui`` (a sign-in redirect for a page that needs one).

Routes let the service's errors (``service.errors``, and the §13 refusals ``domain.identity.Refused``)
rise, as they let HTTP's, the request's validation's and the database's; what each one means over
HTTP is decided here, once."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from config import language
from domain.identity import Refused
from service.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from store.tombstones import KeyMissing
from web.outcomes import outcome
from web.page_kit import N_, PageError, render, see_other
from web.service_sentences import refusal_said, said_by_service

log = logging.getLogger("myocit.web")

PAGES = "/ui"
FORM_NOT_RECORDED = N_("The form could not be recorded")
NOT_YOURS = N_("The token you entered again is not yours: nothing was signed. Go back and paste the token you "
               "signed in with.")
BECAUSE = N_("{words}: {why}")
"""What was not done, and why (French puts a space before the colon)."""
_REFUSAL_CODES = {403: "forbidden", 409: "conflict", 422: "processing"}
_ISSUE_CODES = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 413: "too-long",
                409: "conflict", 415: "not-supported", 503: "transient"}


def failing_as(words: str):
    """A page route's dependency: what its error page says before why a form was not taken
    (``"Not signed"``: "Not signed: the meaning is at most 500 characters.")."""

    def declare(request: Request) -> None:
        request.state.failure_words = words

    return Depends(declare)


def ended(text: str) -> str:
    """``text`` with its full stop."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def sentence(text: str) -> str:
    """``text`` as a sentence of its own: capital first, full stop last."""
    return ended(text[:1].upper() + text[1:])


def _api_answer(exc: Exception):
    if isinstance(exc, NotFound):
        return outcome(404, "not-found", str(exc))
    if isinstance(exc, NotAuthenticated):
        return outcome(401, "login", str(exc))
    if isinstance(exc, Conflict):
        return outcome(409, "conflict", str(exc))
    if isinstance(exc, Forbidden):
        return outcome(403, "forbidden", str(exc))
    if isinstance(exc, Refused):
        status = exc.refusal.http_status
        return outcome(status, _REFUSAL_CODES[status], exc.refusal.explanation)
    return outcome(400, "invalid", str(exc))


def page_error_of(exc: Exception, failure_words: str = FORM_NOT_RECORDED) -> PageError:
    """The error page a service error gives on ``/ui``, in the page's language
    (``web.service_sentences``)."""
    words = language.gettext(failure_words)
    if isinstance(exc, NotFound):
        return PageError(404, sentence(said_by_service(str(exc))))
    if isinstance(exc, NotAuthenticated):
        return PageError(403, language.gettext(NOT_YOURS))
    if isinstance(exc, Forbidden):
        return PageError(403, sentence(said_by_service(str(exc))))
    if isinstance(exc, Refused):
        return PageError(exc.refusal.http_status, language.gettext(BECAUSE).format(
            words=words, why=ended(refusal_said(exc.refusal.explanation))))
    status = 409 if isinstance(exc, Conflict) else 400
    return PageError(status, language.gettext(BECAUSE).format(words=words, why=ended(said_by_service(str(exc)))))


def show_page_error(request: Request, exc: PageError) -> HTMLResponse | RedirectResponse:
    if exc.status == 401:
        return see_other("/ui/login")
    return render(request, "error.html", exc.status, status=exc.status, message=exc.message)


def _on_pages(request: Request) -> bool:
    path = request.url.path
    return path == PAGES or path.startswith(PAGES + "/")


async def _service_error(request: Request, exc: Exception):
    if _on_pages(request):
        words = getattr(request.state, "failure_words", FORM_NOT_RECORDED)
        return show_page_error(request, page_error_of(exc, words))
    return _api_answer(exc)


async def _page_error(request: Request, exc: PageError):
    return show_page_error(request, exc)


async def _http_error(_request: Request, exc: HTTPException):
    response = outcome(exc.status_code, _ISSUE_CODES.get(exc.status_code, "processing"), str(exc.detail))
    for key, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[key] = value
    return response


async def _invalid_request(_request: Request, exc: RequestValidationError):
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return outcome(400, "invalid", f"{where}: {first.get('msg')}")


async def _unexpected(_request: Request, exc: Exception):
    # A safety net, not the fix: tests/api/test_no_500.py proves no input reaches it. Only the
    # error's kind is logged; its message may quote what was sent.
    log.error("unexpected %s answered 500", type(exc).__name__)
    return outcome(500, "exception", "an unexpected error occurred; nothing was stored")


async def _unstorable_value(_request: Request, exc: DataError):
    # The database refused a value of the request (a NUL, a number out of its range): bad input,
    # not an outage. The transaction was rolled back: nothing of it was stored.
    log.warning("database refused a value: %s", type(exc.orig).__name__)
    return outcome(400, "value", "a value of the request cannot be stored or compared (a NUL character, "
                   "or a number out of range); nothing was stored")


async def _database_down(_request: Request, exc: Exception):
    log.warning("database unavailable: %s", type(exc).__name__)
    return outcome(503, "transient", "the database is unavailable; nothing was stored, retry later")


async def _key_missing(_request: Request, exc: Exception):
    log.error("%s", exc)
    return outcome(503, "exception", str(exc))


def install(app: FastAPI) -> None:
    """Answer every error ``app`` lets rise."""
    for kind in (NotFound, Invalid, Conflict, NotAuthenticated, Forbidden, Refused):
        app.add_exception_handler(kind, _service_error)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DBAPIError, _database_down)
    app.add_exception_handler(KeyMissing, _key_missing)
