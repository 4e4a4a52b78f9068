"""Probes and metrics for whoever runs the service (contract §12): liveness apart from readiness, and
Prometheus figures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import text

from service import metrics
from service.operations import observe_work
from domain.identity import Caller
from web.auth import require
from web.openapi import content

router = APIRouter(tags=["service"])


def readiness(rt) -> dict:
    """Whether the database and the broker answer, each "ok" or "down (kind)"."""
    checks = {}
    try:
        with rt.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a probe reports every failure as "down"
        checks["database"] = f"down ({type(exc).__name__})"
    try:
        with rt.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"down ({type(exc).__name__})"
    return checks


def ready(request: Request, response: Response) -> dict:
    checks = readiness(request.app.state.rt)
    healthy = all(v == "ok" for v in checks.values())
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "unavailable", **checks}


@router.get("/livez", summary="200 while the process runs (nothing else is checked)")
def livez() -> dict:
    return {"status": "ok"}


_UNAVAILABLE = {503: {"description": "The database or the broker does not answer",
                      "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/readyz", summary="200 when the database and the broker answer, 503 otherwise", responses=_UNAVAILABLE)
def readyz(request: Request, response: Response) -> dict:
    return ready(request, response)


@router.get("/healthz", summary="The same as /readyz", responses=_UNAVAILABLE)
def healthz(request: Request, response: Response) -> dict:
    return ready(request, response)


@router.get("/metrics", summary="Prometheus text format, across every process (admins)",
            response_class=Response,
            responses={200: content("text/plain; version=0.0.4", "The Prometheus text format", {"type": "string"})})
def prometheus(request: Request, caller: Caller = Depends(require("admin"))) -> Response:
    rt = request.app.state.rt
    observe_work(rt.uow(), clock=rt.clock)
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")
