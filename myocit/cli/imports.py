"""``myocit import``: a site's children already in care, loaded from FHIR files (contract §7)."""

from __future__ import annotations

from pathlib import Path

import typer

from myocit.cli.kit import fail, with_runtime


@with_runtime
def import_(
    rt,
    paths: list[Path] = typer.Argument(..., help="FHIR NDJSON files (one resource a line, as Bulk Data $export "
                                       "writes them) and FHIR Bundle JSON files, or folders of them."),
    site: str | None = typer.Option(None, "--site", help="The site of Patients that name no managingOrganization; "
                                    "the load then writes for this site only."),
) -> None:
    """Load a site's children already in care (contract §7): the same validation and store as POST /fhir,
    then one screening per child. Exit 0 when every line was stored or was a duplicate, 1 when some
    lines were rejected (each reported as FILE:LINE: what is wrong), 2 when nothing could be read."""
    import time

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ingest.bulk import Unreadable
    from service.commands import ImportResources
    from service.imports import import_resources

    started = time.monotonic()
    # Progress on stderr, so stdout keeps only the summary.
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True,
                  console=Console(stderr=True)) as progress:
        task = progress.add_task("reading", total=None)

        def on_progress(report, name: str) -> None:
            rate = report.read / max(time.monotonic() - started, 1e-6)
            progress.update(task, description=f"{name}: {report.read} resources ({rate:,.0f}/s), "
                            f"{report.rejected} rejected")

        try:
            report = import_resources(ImportResources(tuple(paths), site), rt.uow(), clock=rt.clock,
                                      dispatch=rt.dispatch, protocol=rt.protocol, on_progress=on_progress,
                                      on_problem=lambda line: typer.echo(line, err=True))
        except Unreadable as exc:
            fail(str(exc))
    elapsed = max(time.monotonic() - started, 1e-6)
    typer.echo(f"{report.files} files, {report.read} resources in {elapsed:.1f} s ({report.read / elapsed:,.0f}/s): "
               f"{report.stored} stored, {report.duplicates} duplicates skipped, {report.rejected} rejected; "
               f"{report.queued} patients queued for screening")
    if report.read == 0 or report.stored + report.duplicates == 0:
        raise typer.Exit(2)
    raise typer.Exit(1 if report.rejected else 0)
