"""``myocit purge``, ``myocit audit export`` and ``myocit tombstones rekey``: data protection from the
command line (contract §17). ``myocit patient object`` lives with the other patient commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from myocit.cli.kit import COMMAND_LINE, fail, handled, with_runtime

audit_app = typer.Typer(help="The audit trail: who saw or changed what (contract §17).", no_args_is_help=True)
tombstones_app = typer.Typer(help="The tombstones of objected children (contract §17).", no_args_is_help=True)


@with_runtime
def purge(
    rt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the children due, purge nothing."),
    log: bool = typer.Option(False, "--log", help="List the purges done: when, why, how many (never which)."),
) -> None:
    """Purge the children never enrolled whose latest message and latest fact are older than
    MYOCIT_RETENTION_DAYS (730); their screening log row stays, de-identified. The scheduler runs it daily."""
    from domain.identity import Caller
    from service import data_protection
    from service.commands import PurgeExpired

    if log:
        reader = Caller(COMMAND_LINE, "admin")
        for entry in handled(lambda: data_protection.purge_log(reader, rt.uow(), clock=rt.clock)):
            typer.echo(f"{entry['id']}\t{entry['at']}\t{entry['by']}\t{entry['reason']}\tcutoff {entry['cutoff']}"
                       f"\t{entry['children']} children")
        return
    done = handled(lambda: data_protection.purge(PurgeExpired(COMMAND_LINE, rt.settings.retention_days, dry_run),
                                                 rt.uow(), clock=rt.clock))
    if done["dry_run"]:
        typer.echo(f"{done['children']} children would be purged (no data since before {done['cutoff']})")
    else:
        typer.echo(f"purge {done['purge']}: {done['children']} children purged (no data since before {done['cutoff']})")


def _instant(value: str | None, name: str, end: bool = False):
    from fastapi import HTTPException

    from web.data_protection import moment

    try:
        return moment(value, name, end=end)
    except HTTPException as exc:
        fail(f"--{name}: {exc.detail}")


@audit_app.command("export")
@with_runtime
def audit_export(
    rt,
    format: str = typer.Option("csv", "--format", help="csv | json"),
    output: Path | None = typer.Option(None, "--output", help="Write to this file (default: standard output)."),
    since: str | None = typer.Option(None, "--from", help="From this day (YYYY-MM-DD) or instant (ISO, UTC)."),
    until: str | None = typer.Option(None, "--to", help="Up to this day, included, or instant."),
    patient: str | None = typer.Option(None, "--patient", help="A child's screening id (or Patient id, if kept)."),
    actor: str | None = typer.Option(None, "--actor", help="Rows whose actor contains this text."),
) -> None:
    """Export the audit trail (time in UTC, actor, role, action, screening id, target, outcome), streamed."""
    from domain.identity import Caller
    from service import data_protection
    from service.commands import ExportAudit
    from web.data_protection import csv_lines, json_lines

    if format not in ("csv", "json"):
        fail("--format: csv or json")
    command = ExportAudit(Caller(COMMAND_LINE, "admin"), _instant(since, "from"), _instant(until, "to", True),
                          patient, actor)
    rows = data_protection.export_audit(command, rt.uow(), clock=rt.clock)
    chunks = csv_lines(rows) if format == "csv" else json_lines(rows)
    target = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        for chunk in chunks:
            target.write(chunk)
        if format == "json":
            target.write("\n")
    finally:
        if output:
            target.close()


@tombstones_app.command("rekey")
@with_runtime
def tombstones_rekey(rt) -> None:
    """After rotating MYOCIT_PSEUDONYM_KEY (the earlier keys in MYOCIT_PSEUDONYM_OLD_KEYS): wrap every
    tombstone's hashes under the new key, so that an earlier key alone no longer opens them."""
    from service import data_protection

    count = handled(lambda: data_protection.rekey_tombstones(rt.uow(), actor=COMMAND_LINE, clock=rt.clock))
    typer.echo(f"{count} tombstone hashes wrapped under the current key")
