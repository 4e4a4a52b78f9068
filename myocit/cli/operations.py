"""What an operator reads of the running service: ``status`` (is work flowing?) and ``screening-log``
(contract §8)."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path

import typer

from myocit.cli.kit import COMMAND_LINE, fail, handled, with_runtime


@with_runtime
def status(
    rt,
    metrics: Path | None = typer.Option(None, "--metrics", help="The multiprocess metrics folder of a run "
                                        "(default: PROMETHEUS_MULTIPROC_DIR, else MYOCIT_HOME/metrics, "
                                        "which `myocit run` uses)."),
) -> None:
    """Is work flowing? Pending evaluations, due re-screenings, undelivered alerts, failed deliveries,
    then what the running service counted since it started: the figures of GET /metrics."""
    from store.overview import overview
    from service.metrics import figures

    with rt.uow() as uow:
        figures_now = vars(overview(uow.session, rt.clock.today(), rt.clock.now()))
        found = [(k.replace("_", " "), "-" if v is None else rt.clock.shown(v) if isinstance(v, datetime) else str(v))
                 for k, v in figures_now.items()]
    folder = metrics or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or rt.settings.home / "metrics"
    counted = figures(folder)
    width = max(len(k) for k, _ in found + (counted or []))
    for key, value in found:
        typer.echo(f"{key:<{width}}  {value}")
    if counted is None:
        typer.echo(f"\n(no figures since start: no running service writes metrics to {folder})")
        return
    typer.echo("\nsince the service started (every process, as GET /metrics):")
    for key, value in counted:
        typer.echo(f"{key:<{width}}  {value}")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")


def screening_log_command(
    site: str | None = typer.Option(None, "--site", help="Only this site's children (default: every site)."),
    first_from: str | None = typer.Option(None, "--from", help="First screened on or after YYYY-MM-DD."),
    first_to: str | None = typer.Option(None, "--to", help="First screened on or before YYYY-MM-DD."),
) -> None:
    """Write the screening log (contract §8) as CSV to stdout: one row per child first screened in the
    period; no names, birth dates, record numbers or free text."""
    start, end = _day(first_from, "--from"), _day(first_to, "--to")
    _write_screening_log(site=site, first_from=start, first_to=end)


@with_runtime
def _write_screening_log(rt, *, site: str | None, first_from: date | None, first_to: date | None) -> None:
    from service.screening_log import screening_log_csv
    from domain.identity import Caller

    sys.stdout.write(handled(lambda: screening_log_csv(Caller(COMMAND_LINE, "admin"), rt.uow(), clock=rt.clock,
                                                       site=site, first_from=first_from, first_to=first_to)))
