"""Whether work is flowing, for whoever runs the service: the figures ``/status`` answers and
``/metrics`` exposes beside the processes' counters."""

from __future__ import annotations

from service import metrics
from service.ports import Clock
from store.overview import Overview, overview
from store.uow import UnitOfWork


def work_overview(uow: UnitOfWork, *, clock: Clock) -> Overview:
    """Pending evaluations, due re-screenings, undelivered alerts, as the database says now."""
    with uow:
        return overview(uow.session, clock.today(), clock.now())


def observe_work(uow: UnitOfWork, *, clock: Clock) -> None:
    """Set the gauges of ``service.metrics`` from what the database says now."""
    metrics.observe_state(work_overview(uow, clock=clock))
