"""The ``myocit`` command: offline screening, the service's processes, and administration."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path

import typer

app = typer.Typer(
    help="MYOCIT eligibility screening: screen a FHIR record offline, or run the screening service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown joins a docstring's wrapped lines, so a command's summary reads as one sentence.
    rich_markup_mode="markdown",
)


class Format(str, Enum):
    json = "json"
    text = "text"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"myocit: {message}", err=True)
    raise typer.Exit(code)


def _parse_day(text: str | None) -> date:
    if text is None:
        from config.clock import Clock

        # The service's one clock: the sites' time zone, or MYOCIT_TODAY for a rehearsal.
        return Clock(_settings()).today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"--as-of: {text!r} is not a date (YYYY-MM-DD)")
        raise  # unreachable


@app.command()
def screen(
    file: Path = typer.Argument(..., help="A FHIR R4 Bundle (collection, batch or transaction) with one patient's record."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluation date YYYY-MM-DD (planned inclusion/first dose). Default: today."),
    fmt: Format = typer.Option(Format.json, "--format", help="json (contract §3) or text (for a coordinator)."),
    protocol_version: str | None = typer.Option(None, "--protocol", help="Protocol version folder under config/protocols."),
) -> None:
    """Evaluate one patient's record against every MYOCIT criterion, without any server.

    Exit 0 when it evaluated; 2 when the input cannot be read, with one line naming what is wrong.
    """
    from config.protocol_files import DEFAULT_VERSION, ProtocolError, load_protocol
    from domain import PatientRecord, evaluate
    from ingest.errors import InvalidInput
    from ingest.fhir import parse_json, read_bundle, screening_input
    from myocit.report import render_text

    day = _parse_day(as_of)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        _fail(f"{file}: cannot read ({exc.strerror or exc})")
    try:
        protocol = load_protocol(protocol_version or DEFAULT_VERSION)
    except ProtocolError as exc:
        _fail(str(exc))
    try:
        bundle = read_bundle(parse_json(raw))
        patient, profile, facts = screening_input(bundle, protocol=protocol)
    except InvalidInput as exc:
        _fail(f"{file}: {exc}")
    record = PatientRecord.build(patient, profile, facts, protocol)
    result = evaluate(record, protocol, day)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_text(result))


COMMAND_LINE = "command line"
"""Who the audit log names for what an operator does with this command on the server."""


def _runtime():
    from bootstrap import runtime

    return runtime()


def _handled(call):
    """Run a use case; its refusals (not found, invalid) become a one-line error and exit code 2."""
    from service.errors import Conflict, Invalid, NotFound

    try:
        return call()
    except (NotFound, Invalid, Conflict) as exc:
        _fail(str(exc))


def _settings():
    from config.settings import get_settings

    return get_settings()


def _logs() -> None:
    from config.logs import configure

    settings = _settings()
    configure(settings.log_level, settings.log_format)


def _open_home(settings) -> None:
    """The embedded home, created with a line on stderr saying where; refused when the default home is
    new but the working folder holds the data of an earlier version's default (``./var``), so that no
    command silently starts an empty database beside the one that was meant."""
    from config.settings import EARLIER_DEFAULT_HOME
    from bootstrap import EMBEDDED_FILES, private_home

    if (settings.home / EMBEDDED_FILES[0]).exists():
        private_home(settings.home)
        return
    earlier = (EARLIER_DEFAULT_HOME / EMBEDDED_FILES[0]).absolute()
    if settings.home_is_default and earlier.exists():
        _fail(f"the default home is {settings.home} and holds no data, but {earlier.parent} holds an earlier "
              f"version's: set MYOCIT_HOME={earlier.parent} to use it, or move its files to {settings.home}. "
              "Nothing was created.")
    private_home(settings.home)
    typer.echo(f"myocit: new home {settings.home} (MYOCIT_HOME): its database starts empty", err=True)


def _migrate_quietly() -> None:
    from config.settings import SettingsError
    from store.migrate import upgrade

    settings = _settings()
    try:
        settings.authority_systems()
    except SettingsError as exc:
        _fail(str(exc))
    if settings.embedded:
        _open_home(settings)
    upgrade(settings.resolved_database_url())


def _declare_queue() -> None:
    """Declare the task queue once, before the processes of `myocit run` start: on the embedded broker
    (a table in SQLite) processes declaring it together at their start race on its row."""
    from kombu import Exchange, Queue

    celery = _runtime().celery
    name = celery.conf.task_default_queue
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=3)
        Queue(name, Exchange(name), routing_key=name)(connection.default_channel).declare()


def _refuse_unbound_tokens() -> None:
    """Tokens made before sites were required (contract §13) name no site: the service does not start
    while one is active, and says how to fix it."""
    from store.tokens import unbound_tokens
    from bootstrap import runtime

    with runtime().uow() as uow:
        unbound = [(row.pk, row.role) for row in unbound_tokens(uow.session)]
    if unbound:
        listed = ", ".join(f"{pk} ({role})" for pk, role in unbound)
        _fail(f"{len(unbound)} active token(s) name no site: {listed}. Every lab, coordinator and "
              "investigator token must name its sites (contract §13). Bind each with "
              "`myocit token sites ID --site SITE [--site SITE2]`, or revoke it with `myocit token revoke ID` "
              "and make a new one with `myocit token create --role ROLE --site SITE`.")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic migrations) to the latest version."""
    _migrate_quietly()
    typer.echo("database schema is up to date")


@app.command()
def api(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="HTTP port."),
    workers: int = typer.Option(1, help="HTTP worker processes."),
) -> None:
    """Run the HTTP API (contract §5). OpenAPI docs at /docs."""
    import uvicorn

    from web.http_server import HeadersInTime

    _migrate_quietly()
    _refuse_unbound_tokens()
    uvicorn.run("myocit.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False, http=HeadersInTime)


@app.command()
def worker(
    concurrency: int = typer.Option(2, help="Worker processes."),
    loglevel: str = typer.Option("INFO", help="Celery log level."),
) -> None:
    """Run a Celery worker that evaluates patients and delivers alerts."""
    from bootstrap import runtime

    _migrate_quietly()
    _logs()
    runtime().celery.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--without-gossip",
         "--without-mingle", "-Q", "myocit"]
    )


@app.command()
def scheduler(loglevel: str = typer.Option("INFO", help="Celery log level.")) -> None:
    """Run the scheduler (celery beat): timed re-screening of due patients, and the sweeper."""
    from bootstrap import private_home, runtime

    settings = _settings()
    if settings.embedded:
        _open_home(settings)
    private_home(settings.home, embedded=settings.embedded)
    runtime().celery.start(
        ["beat", f"--loglevel={loglevel}", f"--schedule={(settings.home / 'beat-schedule').resolve()}"]
    )


@app.command()
def mllp(
    host: str | None = typer.Option(None, help="Interface to listen on (default MYOCIT_MLLP_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="MLLP port (default MYOCIT_MLLP_PORT, 2575)."),
) -> None:
    """Listen for HL7 v2 over MLLP (contract §6): ORU^R01 from registered senders (`myocit sender`),
    each answered with its ACK once stored. Addresses allowed: MYOCIT_MLLP_ALLOW (default loopback)."""
    import asyncio

    from config.settings import SettingsError
    from mllp.server import serve

    _migrate_quietly()
    settings = _settings()
    try:
        settings.mllp_networks()
    except SettingsError as exc:
        _fail(str(exc))
    if (settings.mllp_tls_cert is None) != (settings.mllp_tls_key is None):
        _fail("MYOCIT_MLLP_TLS_CERT and MYOCIT_MLLP_TLS_KEY go together")
    _logs()
    try:
        asyncio.run(serve(_runtime(), host=host, port=port))
    except OSError as exc:
        _fail(f"cannot listen for MLLP: {exc.strerror or exc}")


@app.command()
def run(
    port: int = typer.Option(8000, help="HTTP port on 127.0.0.1."),
    concurrency: int = typer.Option(1, help="Worker processes."),
    mllp_port: int = typer.Option(2575, "--mllp-port", help="MLLP port (HL7 v2 over TCP); 0 turns it off."),
) -> None:
    """Run the whole service in one process tree: API, worker, scheduler and MLLP listener.

    With no configuration: SQLite database and SQLite-backed broker in MYOCIT_HOME (default
    ~/.local/share/myocit, the same from any folder). With
    MYOCIT_DATABASE_URL and MYOCIT_BROKER_URL set: PostgreSQL and Redis.
    """
    from myocit.supervisor import AlreadyRunning, home_lock, supervise

    settings = _settings()
    try:
        with home_lock(settings.home):
            _migrate_quietly()
            _refuse_unbound_tokens()
            _declare_queue()
            typer.echo(f"myocit: data in {settings.home if settings.embedded else 'the configured database'}; "
                       f"API on http://127.0.0.1:{port} (docs at /docs)"
                       + (f"; MLLP on {settings.mllp_host}:{mllp_port}" if mllp_port else "")
                       + "; Ctrl-C stops everything")
            code = supervise(port=port, concurrency=concurrency, mllp_port=mllp_port, home=settings.home,
                             log_level=settings.log_level)
    except AlreadyRunning as exc:
        _fail(str(exc))
    raise typer.Exit(code)


@app.command()
def status(
    metrics: Path | None = typer.Option(None, "--metrics", help="The multiprocess metrics folder of a run "
                                        "(default: PROMETHEUS_MULTIPROC_DIR, else MYOCIT_HOME/metrics, "
                                        "which `myocit run` uses)."),
) -> None:
    """Is work flowing? Pending evaluations, due re-screenings, undelivered alerts, failed deliveries,
    then what the running service counted since it started: the figures of GET /metrics."""
    from store.overview import overview
    from bootstrap import runtime
    from service.metrics import figures

    _migrate_quietly()
    rt = runtime()
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


@app.command("screening-log")
def screening_log_command(
    site: str | None = typer.Option(None, "--site", help="Only this site's children (default: every site)."),
    first_from: str | None = typer.Option(None, "--from", help="First screened on or after YYYY-MM-DD."),
    first_to: str | None = typer.Option(None, "--to", help="First screened on or before YYYY-MM-DD."),
) -> None:
    """Write the screening log (contract §8) as CSV to stdout: one row per child first screened in the
    period; no names, birth dates, record numbers or free text."""
    from service.screening_log import screening_log_rows, to_csv
    from store.tokens import Caller
    from bootstrap import runtime

    def day(text: str | None, option: str):
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            _fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")

    start, end = day(first_from, "--from"), day(first_to, "--to")
    _migrate_quietly()
    rt = runtime()
    rows = _handled(lambda: screening_log_rows(Caller(COMMAND_LINE, "admin"), rt.uow(), clock=rt.clock, site=site,
                                               first_from=start, first_to=end))
    sys.stdout.write(to_csv(rows))


@app.command()
def demo() -> None:
    """Load sample children of two sites (necker, robert-debre) through the service's own intake, with
    tokens of the right roles, screen them, and print the tokens to sign in with. Refused (exit 1) when
    the demo is already loaded."""
    from myocit.demo import SITES, AlreadyLoaded, load_demo

    _migrate_quietly()
    rt = _runtime()
    typer.echo(f"myocit demo: data in {rt.settings.home if rt.settings.embedded else 'the configured database'}")
    try:
        loaded = load_demo(rt, actor=COMMAND_LINE, say=lambda line: typer.echo(f"myocit demo: {line}"))
    except AlreadyLoaded as exc:
        _fail(f"the demo is already loaded here ({exc}); its tokens were printed when it ran. "
              "`myocit token list` shows them; `myocit token create --role coordinator --site necker` makes "
              "another", code=1)
    pages = f"{rt.settings.base_url.rstrip('/')}/ui"
    typer.echo(f"\nSign in at {pages} (start the service with `make run` if it is not running); each token "
               "sees its own site only:")
    for site in SITES:
        for role in ("coordinator", "investigator", "lab"):
            typer.echo(f"  {role:<12} {site:<13} {loaded.tokens[(role, site)]}")
    typer.echo(f"  {'admin':<12} {'every site':<13} {loaded.tokens[('admin', None)]}")
    typer.echo("Lab tokens post (POST /fhir, /hl7v2) and cannot sign in; the admin's reads /ui/audit and /ui/protocols.")


token_app = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="lab | coordinator | investigator | admin"),
    site: list[str] = typer.Option([], "--site", help="A site the token acts for; repeat for several. Required "
                                   "for lab, coordinator and investigator; none for admin."),
    name: str | None = typer.Option(None, help="Who or what holds it (shown in the audit log)."),
) -> None:
    """Create a bearer token and print it once (only its hash is stored)."""
    from service import administration
    from service.commands import CreateToken

    _migrate_quietly()
    rt = _runtime()
    token = _handled(lambda: administration.create_token(CreateToken(role, tuple(site), name, COMMAND_LINE),
                                                         rt.uow(), clock=rt.clock))
    typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """List the tokens: id, role, sites, holder, created, revoked (a token itself is never shown again)."""
    from store.tokens import SITE_BOUND_ROLES, tokens
    from bootstrap import runtime

    _migrate_quietly()
    shown = runtime().clock.shown
    with runtime().uow() as uow:
        for row in tokens(uow.session):
            revoked = f"revoked {shown(row.revoked_at)}" if row.revoked_at else "active"
            sites = ",".join(row.sites or ()) or ("NO SITE: refused" if row.role in SITE_BOUND_ROLES else "*")
            typer.echo(f"{row.pk}\t{row.role}\t{sites}\t{row.name or '-'}\t"
                       f"created {shown(row.created_at)}\t{revoked}")


@token_app.command("sites")
def token_sites(
    token_id: int = typer.Argument(..., help="The id shown by `myocit token list`."),
    site: list[str] = typer.Option(..., "--site", help="A site the token acts for; repeat for several."),
) -> None:
    """Bind a token to its sites (replacing the ones it had); audited."""
    from service import administration
    from service.commands import BindTokenSites

    _migrate_quietly()
    rt = _runtime()
    row = _handled(lambda: administration.bind_token_sites(BindTokenSites(token_id, tuple(site), COMMAND_LINE),
                                                           rt.uow(), clock=rt.clock))
    typer.echo(f"token {token_id} acts for {','.join(row.sites)}")


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="The id shown by `myocit token list`.")) -> None:
    """Revoke a token for good (API processes stop accepting it within a few seconds)."""
    from service import administration
    from service.commands import RevokeToken

    _migrate_quietly()
    rt = _runtime()
    row = _handled(lambda: administration.revoke_token(RevokeToken(token_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"token {token_id} ({row.name or f'token-{row.pk}'}) revoked")


sender_app = typer.Typer(help="HL7 v2 senders over MLLP (MSH-3, MSH-4) and the sites each may send for.",
                         no_args_is_help=True)
app.add_typer(sender_app, name="sender")


@sender_app.command("create")
def sender_create(
    application: str = typer.Option(..., "--application", help="MSH-3 (first component) as the sender writes it."),
    facility: str = typer.Option(..., "--facility", help="MSH-4 (first component) as the sender writes it."),
    site: list[str] = typer.Option(..., "--site", help="A site it sends for; repeat for several."),
    from_: list[str] = typer.Option([], "--from", help="An address or CIDR range it may send from; repeat for "
                                    "several. Without it, any address MYOCIT_MLLP_ALLOW lets in."),
    certificate: list[str] = typer.Option([], "--certificate", help="The SHA-256 fingerprint of the TLS client "
                                          "certificate it must send with; repeat for several."),
) -> None:
    """Register a sending system: its messages are taken with a lab token's authority over its sites."""
    from service import senders
    from service.commands import RegisterSender

    _migrate_quietly()
    rt = _runtime()
    command = RegisterSender(application, facility, tuple(site), COMMAND_LINE, tuple(from_), tuple(certificate))
    row = _handled(lambda: senders.register_sender(command, rt.uow(), clock=rt.clock))
    typer.echo(f"sender {row.pk}: {row.application}@{row.facility} sends for {','.join(row.sites)}"
               f"{_sender_bindings(row)}")


def _sender_bindings(row) -> str:
    bound = [f"from {','.join(row.addresses)}"] if row.addresses else []
    bound += [f"certificate {','.join(row.certificates)}"] if row.certificates else []
    return "".join(f"\t{b}" for b in bound)


@sender_app.command("list")
def sender_list() -> None:
    """List the senders: id, application, facility, sites, created, revoked."""
    from service import senders

    _migrate_quietly()
    shown = _runtime().clock.shown
    for row in senders.list_senders(_runtime().uow()):
        revoked = f"revoked {shown(row.revoked_at)}" if row.revoked_at else "active"
        typer.echo(f"{row.pk}\t{row.application}\t{row.facility}\t{','.join(row.sites)}\t"
                   f"created {shown(row.created_at)}\t{revoked}{_sender_bindings(row)}")


@sender_app.command("revoke")
def sender_revoke(sender_id: int = typer.Argument(..., help="The id shown by `myocit sender list`.")) -> None:
    """Revoke a sender: its next messages get AR (unknown sender)."""
    from service import senders
    from service.commands import RevokeSender

    _migrate_quietly()
    rt = _runtime()
    row = _handled(lambda: senders.revoke_sender(RevokeSender(sender_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"sender {sender_id} ({row.application}@{row.facility}) revoked")


site_app = typer.Typer(help="Sites: the identifier systems bound to them (contract §13).", no_args_is_help=True)
identifier_system_app = typer.Typer(help="Identifier systems (a hospital's record numbers) bound to sites: a "
                                         "Patient of another site carrying one is refused.", no_args_is_help=True)
site_app.add_typer(identifier_system_app, name="identifier-system")
app.add_typer(site_app, name="site")


@identifier_system_app.command("add")
def identifier_system_add(
    system: str = typer.Argument(..., help="The identifier system, as Patient.identifier.system says it."),
    site: list[str] = typer.Option(..., "--site", help="A site it belongs to; repeat for several."),
) -> None:
    """Bind an identifier system to sites."""
    from service import identifier_systems
    from service.commands import BindIdentifierSystem

    _migrate_quietly()
    rt = _runtime()
    sites = _handled(lambda: identifier_systems.bind_identifier_system(
        BindIdentifierSystem(system, tuple(site), COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"{system.strip()} belongs to {','.join(sites)}")


@identifier_system_app.command("list")
def identifier_system_list() -> None:
    """List the bound systems: system, sites."""
    from service import identifier_systems

    _migrate_quietly()
    for system, sites in identifier_systems.list_identifier_systems(_runtime().uow()):
        typer.echo(f"{system}\t{','.join(sites)}")


@identifier_system_app.command("remove")
def identifier_system_remove(
    system: str = typer.Argument(..., help="The identifier system."),
    site: list[str] = typer.Option([], "--site", help="Unbind from this site only; repeat for several."),
) -> None:
    """Unbind an identifier system from sites (every site without --site)."""
    from service import identifier_systems
    from service.commands import UnbindIdentifierSystem

    _migrate_quietly()
    rt = _runtime()
    removed = _handled(lambda: identifier_systems.unbind_identifier_system(
        UnbindIdentifierSystem(system, tuple(site), COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"{system.strip()}: {removed} binding(s) removed")


@app.command("import")
def import_(
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

    _migrate_quietly()
    rt = _runtime()
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
            _fail(str(exc))
    elapsed = max(time.monotonic() - started, 1e-6)
    typer.echo(f"{report.files} files, {report.read} resources in {elapsed:.1f} s ({report.read / elapsed:,.0f}/s): "
               f"{report.stored} stored, {report.duplicates} duplicates skipped, {report.rejected} rejected; "
               f"{report.queued} patients queued for screening")
    if report.read == 0 or report.stored + report.duplicates == 0:
        raise typer.Exit(2)
    raise typer.Exit(1 if report.rejected else 0)


messages_app = typer.Typer(help="The message store: what came in, when, from whom, what it became.",
                            no_args_is_help=True)
app.add_typer(messages_app, name="messages")


def _since(text: str | None):
    from datetime import datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--since: not an ISO date or timestamp (2026-12-01 or 2026-12-01T08:00:00+01:00)")
    return _runtime().clock.local(moment)


@messages_app.command("list")
def messages_list(
    channel: str | None = typer.Option(None, help="fhir, hl7v2, mllp, ui or import."),
    status: str | None = typer.Option(None, help="filed, waiting (kept for a child not registered) or no-facts."),
    since: str | None = typer.Option(None, help="Received at or after (ISO date or timestamp; without an offset, "
                                     "at the sites' time zone, MYOCIT_TIMEZONE)."),
    limit: int = typer.Option(200, help="At most this many, newest first."),
) -> None:
    """List stored messages, newest first: id, received, channel, sender, control id and ACK, facts,
    status, patients (screening ids)."""
    from store import messages

    _migrate_quietly()
    shown = _runtime().clock.shown
    with _runtime().uow() as uow:
        for m in messages.listing(uow.session, channel=channel, since=_since(since), limit=limit):
            if status and m.status != status:
                continue
            typer.echo(f"{m.pk}\t{shown(m.received_at, seconds=True)}\t{m.channel}\t{m.sender or '-'}\t"
                       f"{m.control_id or '-'}\t{m.ack_code or '-'}\t{m.facts} facts\t{m.status}\t"
                       f"{','.join(m.patients) or '-'}")


@messages_app.command("show")
def messages_show(message_id: int = typer.Argument(..., help="The id shown by `myocit messages list`.")) -> None:
    """One message: what came in (verbatim), when, from whom, what it became (its facts), its ACK."""
    from store import messages

    _migrate_quietly()
    with _runtime().uow() as uow:
        found = messages.summary(uow.session, message_id)
        if found is None:
            _fail(f"no message {message_id}")
        row = messages.message(uow.session, message_id)
        received = _runtime().clock.shown(found.received_at, seconds=True)
        typer.echo(f"message {found.pk}: {found.channel} from {found.sender or '-'} at {received}")
        typer.echo(f"content type {row.content_type}; control id {found.control_id or '-'}; "
                   f"acknowledged {found.ack_code or ('stored' if found.channel != 'hl7v2' else '-')}")
        typer.echo(f"became: {found.facts} facts, {found.status}; patients {', '.join(found.patients) or '-'}")
        for fact in messages.facts_of(uow.session, message_id):
            typer.echo(f"  fact {fact.pk}\t{fact.kind}\t{fact.source}\t{fact.effective}\t"
                       f"{'patient ' + str(fact.patient_pk) if fact.patient_pk else 'kept for ' + fact.subject_key}")
        typer.echo("body:")
        typer.echo(row.body)


@messages_app.command("reprocess")
def messages_reprocess(
    message_id: int | None = typer.Argument(None, help="One message's id."),
    since: str | None = typer.Option(None, help="Every message received at or after this (ISO date or timestamp; "
                                     "without an offset, at the sites' time zone)."),
) -> None:
    """Derive the facts of stored messages again after a mapping fix; the children whose facts changed
    are re-screened (an alert only for a real change). Idempotent."""
    from service.commands import ReprocessMessages
    from service.messages import reprocess
    from store import messages

    if (message_id is None) == (since is None):
        _fail("give one message id or --since T")
    _migrate_quietly()
    rt = _runtime()
    if message_id is not None:
        pks = (message_id,)
    else:
        with rt.uow() as uow:
            pks = tuple(messages.pks_since(uow.session, _since(since)))
    done = reprocess(ReprocessMessages(pks, COMMAND_LINE), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                     protocol=rt.protocol, authorities=rt.settings.authority_systems(),
                     max_results=rt.settings.max_results_per_message)
    for pk, why in done.unreadable.items():
        typer.echo(f"message {pk}: not read again ({why}); its facts are unchanged", err=True)
    typer.echo(f"{len(pks)} messages: {len(done.changed)} re-derived, {len(done.unchanged)} unchanged, "
               f"{len(done.unreadable)} unreadable, {len(done.missing)} missing; {done.queued} patients re-screened"
               + (f"; {done.left_out} facts naming a new subject left out (send the message again)"
                  if done.left_out else ""))
    if done.missing and message_id is not None:
        raise typer.Exit(2)


patient_app = typer.Typer(help="Registered patients (administration).", no_args_is_help=True)
app.add_typer(patient_app, name="patient")


@patient_app.command("move")
def patient_move(
    patient_id: str = typer.Argument(..., help="The patient's screening id (Patient.id)."),
    site: str = typer.Option(..., "--site", help="The site that now cares for the child."),
) -> None:
    """Move a child to another site (its site is otherwise fixed at registration); audited. Earlier
    alerts stay with the site they were raised for; the child is re-screened for the new one."""
    from service.commands import MovePatient
    from service.patients import move_patient

    if not site.strip() or len(site.strip()) > 64:
        _fail("--site: 1 to 64 characters")
    _migrate_quietly()
    rt = _runtime()
    before = _handled(lambda: move_patient(MovePatient(patient_id, site.strip(), COMMAND_LINE), rt.uow(),
                                           clock=rt.clock, dispatch=rt.dispatch))
    typer.echo(f"patient {patient_id} moved from {before or '-'} to {site.strip()}")


subscription_app = typer.Typer(help="Where each site's alerts are delivered.", no_args_is_help=True)
app.add_typer(subscription_app, name="subscription")


@subscription_app.command("create")
def subscription_create(
    site: str = typer.Option(..., help="The site whose alerts are delivered."),
    email: str | None = typer.Option(None, help="Send each alert to this address."),
    webhook: str | None = typer.Option(None, help="POST each alert, signed, to this http(s) URL."),
) -> None:
    """Subscribe a site to its alerts; for a webhook, print the signing secret once."""
    from service import administration
    from service.commands import CreateSubscription

    if (email is None) == (webhook is None):
        _fail("give exactly one of --email ADDRESS or --webhook URL")
    _migrate_quietly()
    rt = _runtime()
    made = _handled(lambda: administration.create_subscription(
        CreateSubscription(site, "email" if email else "webhook", email or webhook, COMMAND_LINE), rt.uow(),
        clock=rt.clock))
    typer.echo(f"subscription {made.subscription.pk}: {site} → {email or webhook}")
    if made.secret:
        typer.echo(f"signing secret (shown once; verify Myocit-Signature with it): {made.secret}")


@subscription_app.command("list")
def subscription_list() -> None:
    """List the subscriptions: id, site, channel, target, active (secrets are never shown again)."""
    from store.deliveries import subscriptions
    from bootstrap import runtime

    _migrate_quietly()
    with runtime().uow() as uow:
        for row in subscriptions(uow.session):
            typer.echo(f"{row.pk}\t{row.site}\t{row.channel}\t{row.target}\t{'active' if row.active else 'inactive'}")


@subscription_app.command("deactivate")
def subscription_deactivate(
    subscription_id: int = typer.Argument(..., help="The id shown by `myocit subscription list`."),
) -> None:
    """Stop delivering alerts to a subscription (its past deliveries stay listed)."""
    from service import administration
    from service.commands import DeactivateSubscription

    _migrate_quietly()
    rt = _runtime()
    row = _handled(lambda: administration.deactivate_subscription(
        DeactivateSubscription(subscription_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"subscription {subscription_id} ({row.site} → {row.target}) deactivated")


from myocit.protocol_cli import protocol_app  # noqa: E402 - after ``app``, which it is added to

app.add_typer(protocol_app, name="protocol")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
