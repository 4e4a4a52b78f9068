"""``myocit protocol list | diff A B | shadow B | activate B`` (contract §10)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date

import typer

from myocit.cli.kit import COMMAND_LINE, with_runtime

protocol_app = typer.Typer(help="Protocol versions and amendments (contract §10).", no_args_is_help=True)


def _fail(message: str) -> None:
    """The protocol commands' own error line: it has always begun with "error:", and scripts read it."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _candidate(version: str, rt):
    from service.amendments import load_candidate
    from service.errors import Invalid

    try:
        return load_candidate(version, rt.settings.protocols)
    except Invalid as exc:
        _fail(str(exc))


@protocol_app.command("list")
@with_runtime
def list_(rt) -> None:
    """The versions found (shipped, and in MYOCIT_PROTOCOLS) and which is active."""
    from config.protocol_files import ProtocolError
    from service import amendments

    active = amendments.active_name(rt.uow(), rt.settings.protocol_version)
    try:
        found = amendments.versions(rt.settings.protocols)
    except ProtocolError as exc:
        _fail(str(exc))
    for v in found:
        mark = "*" if v.name == active else " "
        what = f"version {v.protocol.version}" if v.protocol else f"DOES NOT LOAD: {v.problem}"
        typer.echo(f"{mark} {v.name}\t{what}\t{v.folder}")
    if active not in {v.name for v in found}:
        typer.echo(f"* {active}\t(active; stored in the database, its folder is not installed here)")


@protocol_app.command("diff")
@with_runtime
def diff(rt, a: str = typer.Argument(..., help="A version, or a version folder's path."),
         b: str = typer.Argument(..., help="A version, or a version folder's path.")) -> None:
    """What changed from A to B: thresholds, windows, validities, choices and code lists, old → new."""
    from service.amendments import compare_versions

    old, new = _candidate(a, rt), _candidate(b, rt)
    changes = compare_versions(old.protocol, new.protocol)
    typer.echo(f"{old.name} ({old.protocol.version}) → {new.name} ({new.protocol.version}): "
               f"{len(changes)} change(s)")
    for change in changes:
        typer.echo(f"  {change}")


@protocol_app.command("shadow")
def shadow(
    b: str = typer.Argument(..., help="The candidate: a version, or a version folder's path (a draft)."),
    site: str | None = typer.Option(None, "--site", help="Only the children of this site."),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD; default: today."),
    format: str = typer.Option("text", "--format", help="text | json | csv"),
) -> None:
    """Screen every registered child under the active version and under B from the stored facts;
    store no screening, raise no alert; print every child whose status would change.

    With PostgreSQL and a broker, the children are screened in chunks by the Celery workers (as many
    as run, on any machine), gathered here with progress; the embedded default screens them in this
    process."""
    if format not in ("text", "json", "csv"):
        _fail("--format must be text, json or csv")
    _print_shadow(_shadow(b, site=site, as_of=as_of), format)


def _chunked(rt, cmd, candidate):
    """The workers' mapper (``service.shadow_runs``), or None for the embedded default: this process."""
    from service.shadow_runs import ChunkedShadow

    if rt.settings.embedded:
        return None
    return ChunkedShadow(cmd, rt.uow(), active=rt.protocols.files(), candidate=(candidate.name, candidate.files),
                         dispatch=rt.dispatch, clock=rt.clock, lease_seconds=rt.settings.shadow_chunk_seconds)


@with_runtime
def _shadow(rt, b: str, *, site: str | None, as_of: str | None) -> dict:
    from service import amendments
    from service.commands import ShadowAmendment
    from service.errors import Conflict

    try:
        day = date.fromisoformat(as_of) if as_of else rt.clock.today()
    except ValueError:
        _fail("--as-of: not a date (YYYY-MM-DD)")
    candidate = _candidate(b, rt)
    active = rt.protocol
    name = rt.protocols.name()

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\rshadow {candidate.name}: {done}/{total} patients screened")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    cmd = ShadowAmendment(b, day, site, COMMAND_LINE)
    try:
        return amendments.shadow(cmd, rt.uow(), active_version=name, active=active, candidate=candidate,
                                 clock=rt.clock, mapper=_chunked(rt, cmd, candidate), progress=progress)
    except Conflict as exc:
        sys.stderr.write("\n")
        _fail(str(exc))


def _print_shadow(report: dict, format: str) -> None:
    if format == "json":
        typer.echo(json.dumps(report, indent=2))
    elif format == "csv":
        out = csv.writer(sys.stdout)
        out.writerow(["patient", "site", "from", "to", "criterion", "criterion_from", "criterion_to"])
        for c in report["changes"]:
            for crit in c["criteria"] or [{"id": "", "from": "", "to": ""}]:
                out.writerow([c["patient"], c["site"], c["from"], c["to"], crit["id"], crit["from"], crit["to"]])
    else:
        typer.echo(f"{report['active']} → {report['candidate']} as of {report['as_of']}: {report['screened']} "
                   f"screened, {len(report['changes'])} would change status"
                   + (f", {len(report['failed'])} could not be screened" if report["failed"] else ""))
        for c in report["changes"]:
            moved = ", ".join(f"{x['id']} {x['from']} → {x['to']}" for x in c["criteria"])
            typer.echo(f"  {c['patient']}\t{c['site']}\t{c['from']} → {c['to']}\t{moved}")
    if report["failed"]:
        # On stderr whatever the format, so a CSV or JSON reader still sees the run was not whole.
        for f in report["failed"]:
            typer.echo(f"shadow {report['candidate']}: {f['patient']} ({f['site']}) could not be screened: "
                       f"{f['error']}", err=True)


@protocol_app.command("activate")
@with_runtime
def activate(rt, b: str = typer.Argument(..., help="A version, or a version folder's path."),
             wait: bool = typer.Option(False, "--wait", help="Stay until every child is re-screened, showing the "
                                       "progress (the embedded default screens them in this process).")) -> None:
    """Make B the active version for every process (stored, audited), then re-screen every registered
    child under it through the workers; `myocit status` shows the progress."""
    from service import amendments
    from service.commands import ActivateProtocol
    from service.errors import Invalid

    candidate = _candidate(b, rt)
    try:
        done = amendments.activate(ActivateProtocol(b, COMMAND_LINE), rt.uow(), candidate=candidate,
                                   current=rt.protocol, clock=rt.clock, dispatch=rt.dispatch)
    except Invalid as exc:
        _fail(str(exc))
    rt.protocols.forget()
    typer.echo(f"{done['name']} (version {done['version']}) is active; {done['patients']} patients sent for "
               "re-screening (see `myocit status`)")
    if wait:
        _rescreened(rt, done["patients"])


def _rescreened(rt, marked: int) -> None:
    """The re-screening's progress until no child is pending: screened here on the embedded default
    (the same handler as the workers', ``service.backlog``), else by the workers, counted down."""
    import time

    from service import amendments, backlog, evaluation
    from service.commands import DrainBacklog, EvaluatePatient

    def progress() -> int:
        left = amendments.still_pending(rt.uow())
        sys.stderr.write(f"\rre-screening: {max(0, marked - left)}/{marked} patients screened")
        sys.stderr.flush()
        return left

    def screen(pk: int) -> None:
        evaluation.evaluate_patient(EvaluatePatient(pk, rt.clock.today()), rt.uow(), protocols=rt.protocols,
                                    clock=rt.clock, dispatch=rt.dispatch)

    while progress():
        if not rt.settings.embedded:
            time.sleep(0.5)
            continue
        drained = backlog.drain_backlog(DrainBacklog(2.0), rt.uow(), clock=rt.clock, evaluate=screen,
                                        hand_on=lambda pk, _exc: rt.dispatch.evaluate_alone(pk))
        if not drained["evaluated"]:
            sys.stderr.write("\nthe children left could not be screened here; the worker retries them")
            break
    sys.stderr.write("\n")
