"""The HTTP service (contract §5): FHIR and HL7 v2 in, eligibility and alerts out."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web import auth, errors, language
from web.page_kit import STATIC
from web.request_checks import RefuseNul
from web.request_ids import RequestIds

DESCRIPTION = """Eligibility screening for the MYOCIT trial (baricitinib in new-onset juvenile
dermatomyositis). Lab systems post FHIR R4 resources and HL7 v2 ORU^R01 results; every patient they
touch is re-evaluated against the 34 criteria; coordinators read results and alerts for their site."""


def create_app(rt=None) -> FastAPI:
    from web import (api, cds_hooks, data_protection, deliveries, docs, fhir_outputs, metadata, oidc_pages, openapi,
                     operations, pages, probes, protocol_pages, records, trial_pages)
    from web.session import SignInThrottle

    if rt is None:
        from bootstrap import runtime

        rt = runtime()
    # /docs is served from the package's own Swagger UI assets (web/docs.py): hospital networks are
    # often offline, and a CDN would leave it blank there.
    app = FastAPI(title="myocit", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestIds)
    app.add_middleware(language.Languages)
    app.state.rt = rt
    auth.install(app)
    app.include_router(probes.router)
    docs.install(app)
    # Before the intake routes: their POST /fhir/{type} would take POST /fhir/Subscription.
    app.include_router(fhir_outputs.router)
    app.include_router(api.router)
    app.include_router(protocol_pages.router)
    app.include_router(pages.router)
    app.include_router(language.router)
    app.include_router(oidc_pages.router)
    app.include_router(trial_pages.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.state.sign_in_throttle = SignInThrottle()
    app.include_router(deliveries.router)
    app.include_router(operations.router)
    app.include_router(metadata.router)
    app.include_router(records.router)
    app.include_router(cds_hooks.router)
    app.include_router(data_protection.router)
    openapi.install(app)
    errors.install(app)
    return app
