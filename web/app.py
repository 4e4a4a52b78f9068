"""The HTTP service (contract §5): FHIR and HL7 v2 in, eligibility and alerts out."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from web import auth
from web.request_checks import RefuseNul
from web.request_ids import RequestIds
from web.outcomes import outcome

log = logging.getLogger("myocit.web")

DESCRIPTION = """Eligibility screening for the MYOCIT trial (baricitinib in new-onset juvenile
dermatomyositis). Lab systems post FHIR R4 resources and HL7 v2 ORU^R01 results; every patient they
touch is re-evaluated against the 34 criteria; coordinators read results and alerts for their site."""

_ISSUE_CODES = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 413: "too-long",
                409: "conflict", 415: "not-supported", 503: "transient"}


def create_app(rt=None) -> FastAPI:
    from web import api, deliveries, docs, metadata, openapi, operations, pages, probes, protocol_pages, records

    if rt is None:
        from bootstrap import runtime

        rt = runtime()
    # /docs is served from the package's own Swagger UI assets (web/docs.py): hospital networks are
    # often offline, and a CDN would leave it blank there.
    app = FastAPI(title="myocit", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestIds)
    app.state.rt = rt
    auth.install(app)
    app.include_router(probes.router)
    docs.install(app)
    app.include_router(api.router)
    app.include_router(protocol_pages.router)
    pages.install(app)
    app.include_router(deliveries.router)
    app.include_router(operations.router)
    app.include_router(metadata.router)
    app.include_router(records.router)
    openapi.install(app)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: HTTPException):
        response = outcome(exc.status_code, _ISSUE_CODES.get(exc.status_code, "processing"), str(exc.detail))
        for key, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return outcome(400, "invalid", f"{where}: {first.get('msg')}")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        # A safety net, not the fix: tests/api/test_no_500.py proves no input reaches it. Only the
        # error's kind is logged; its message may quote what was sent.
        log.error("unexpected %s answered 500", type(exc).__name__)
        return outcome(500, "exception", "an unexpected error occurred; nothing was stored")

    @app.exception_handler(DataError)
    async def _unstorable_value(_request: Request, exc: DataError):
        # The database refused a value of the request (a NUL, a number out of its range): bad input,
        # not an outage. The transaction was rolled back: nothing of it was stored.
        log.warning("database refused a value: %s", type(exc.orig).__name__)
        return outcome(400, "value", "a value of the request cannot be stored or compared (a NUL character, "
                       "or a number out of range); nothing was stored")

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def _database_down(_request: Request, exc: Exception):
        log.warning("database unavailable: %s", type(exc).__name__)
        return outcome(503, "transient", "the database is unavailable; nothing was stored, retry later")

    return app
