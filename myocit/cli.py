"""The ``myocit`` command: offline screening, the service's processes, and administration."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path

import typer

app = typer.Typer(
    help="MYOCIT eligibility screening: screen a FHIR record offline, or run the screening service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


def _settings():
    from config.settings import get_settings

    return get_settings()


def _migrate_quietly() -> None:
    from config.settings import SettingsError
    from store.migrate import upgrade
    from bootstrap import private_home

    settings = _settings()
    try:
        settings.authority_systems()
    except SettingsError as exc:
        _fail(str(exc))
    if settings.embedded:
        private_home(settings.home)
    upgrade(settings.resolved_database_url())


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

    _migrate_quietly()
    _refuse_unbound_tokens()
    uvicorn.run("myocit.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False)


@app.command()
def worker(
    concurrency: int = typer.Option(2, help="Worker processes."),
    loglevel: str = typer.Option("INFO", help="Celery log level."),
) -> None:
    """Run a Celery worker that evaluates patients and delivers alerts."""
    from bootstrap import runtime

    _migrate_quietly()
    runtime().celery.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--without-gossip",
         "--without-mingle", "-Q", "myocit"]
    )


@app.command()
def scheduler(loglevel: str = typer.Option("INFO", help="Celery log level.")) -> None:
    """Run the scheduler (celery beat): timed re-screening of due patients, and the sweeper."""
    from bootstrap import private_home, runtime

    settings = _settings()
    private_home(settings.home, embedded=settings.embedded)
    runtime().celery.start(
        ["beat", f"--loglevel={loglevel}", f"--schedule={(settings.home / 'beat-schedule').resolve()}"]
    )


@app.command()
def run(
    port: int = typer.Option(8000, help="HTTP port on 127.0.0.1."),
    concurrency: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the whole service in one process tree: API, worker and scheduler.

    With no configuration: SQLite database and SQLite-backed broker under ./var. With
    MYOCIT_DATABASE_URL and MYOCIT_BROKER_URL set: PostgreSQL and Redis.
    """
    from myocit.supervisor import supervise

    _migrate_quietly()
    _refuse_unbound_tokens()
    settings = _settings()
    typer.echo(f"myocit: database {'embedded SQLite in ' + str(settings.home) if settings.embedded else 'configured'}; "
               f"API on http://127.0.0.1:{port} (docs at /docs); Ctrl-C stops everything")
    raise typer.Exit(supervise(port=port, concurrency=concurrency))


@app.command()
def status() -> None:
    """Is work flowing? Pending evaluations, due re-screenings, undelivered alerts, failed deliveries."""
    from store.overview import overview
    from bootstrap import runtime

    _migrate_quietly()
    rt = runtime()
    with rt.uow() as uow:
        found = overview(uow.session, rt.clock.today(), rt.clock.now()).to_json()
    width = max(len(k) for k in found)
    for key, value in found.items():
        typer.echo(f"{key.replace('_', ' '):<{width}}  {'-' if value is None else value}")


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
    from store.tokens import TokenError, check_sites, create_token
    from bootstrap import runtime

    try:
        check_sites(role, site)
    except TokenError as exc:
        _fail(str(exc))
    if name is not None and len(name) > 120:
        _fail("--name: at most 120 characters")
    _migrate_quietly()
    rt = runtime()
    with rt.uow() as uow:
        token = create_token(uow.session, role, site, name, rt.clock.now())
        uow.commit()
    typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """List the tokens: id, role, sites, holder, created, revoked (a token itself is never shown again)."""
    from store.tokens import SITE_BOUND_ROLES, tokens
    from bootstrap import runtime

    _migrate_quietly()
    with runtime().uow() as uow:
        for row in tokens(uow.session):
            revoked = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            sites = ",".join(row.sites or ()) or ("NO SITE: refused" if row.role in SITE_BOUND_ROLES else "*")
            typer.echo(f"{row.pk}\t{row.role}\t{sites}\t{row.name or '-'}\t"
                       f"created {row.created_at:%Y-%m-%d %H:%M}\t{revoked}")


@token_app.command("sites")
def token_sites(
    token_id: int = typer.Argument(..., help="The id shown by `myocit token list`."),
    site: list[str] = typer.Option(..., "--site", help="A site the token acts for; repeat for several."),
) -> None:
    """Bind a token to its sites (replacing the ones it had); audited."""
    from store import audit
    from store.tokens import TokenError, set_sites
    from bootstrap import runtime

    _migrate_quietly()
    rt = runtime()
    with rt.uow() as uow:
        try:
            row = set_sites(uow.session, token_id, site)
        except TokenError as exc:
            _fail(str(exc))
        if row is None:
            _fail(f"no token {token_id} (see `myocit token list`)")
        audit.record(uow.session, "command line", "token-sites", f"Token/{token_id}", rt.clock.now())
        sites = ",".join(row.sites)
        uow.commit()
    typer.echo(f"token {token_id} acts for {sites}")


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="The id shown by `myocit token list`.")) -> None:
    """Revoke a token for good (API processes stop accepting it within a few seconds)."""
    from store.tokens import revoke_token
    from bootstrap import runtime

    _migrate_quietly()
    rt = runtime()
    with rt.uow() as uow:
        row = revoke_token(uow.session, token_id, rt.clock.now())
        if row is None:
            _fail(f"no token {token_id} (see `myocit token list`)")
        holder = row.name or f"token-{row.pk}"
        uow.commit()
    typer.echo(f"token {token_id} ({holder}) revoked")


patient_app = typer.Typer(help="Registered patients (administration).", no_args_is_help=True)
app.add_typer(patient_app, name="patient")


@patient_app.command("move")
def patient_move(
    patient_id: str = typer.Argument(..., help="The patient's screening id (Patient.id)."),
    site: str = typer.Option(..., "--site", help="The site that now cares for the child."),
) -> None:
    """Move a child to another site (its site is otherwise fixed at registration); audited. Earlier
    alerts stay with the site they were raised for; the child is re-screened for the new one."""
    from bootstrap import runtime
    from service.commands import MovePatient
    from service.errors import NotFound
    from service.patients import move_patient

    if not site.strip() or len(site.strip()) > 64:
        _fail("--site: 1 to 64 characters")
    _migrate_quietly()
    rt = runtime()
    try:
        before = move_patient(MovePatient(patient_id, site.strip(), "command line"), rt.uow(), clock=rt.clock,
                              dispatch=rt.dispatch)
    except NotFound as exc:
        _fail(str(exc))
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
    from store.deliveries import create_subscription
    from bootstrap import runtime

    if (email is None) == (webhook is None):
        _fail("give exactly one of --email ADDRESS or --webhook URL")
    if webhook is not None and not webhook.startswith(("https://", "http://")):
        _fail("--webhook: an http(s) URL is expected")
    _migrate_quietly()
    rt = runtime()
    with rt.uow() as uow:
        row = create_subscription(uow.session, site=site, channel="email" if email else "webhook",
                                  target=email or webhook, now=rt.clock.now())
        pk, secret = row.pk, row.secret
        uow.commit()
    typer.echo(f"subscription {pk}: {site} → {email or webhook}")
    if secret:
        typer.echo(f"signing secret (shown once; verify Myocit-Signature with it): {secret}")


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
    from store.deliveries import deactivate_subscription
    from bootstrap import runtime

    _migrate_quietly()
    with runtime().uow() as uow:
        row = deactivate_subscription(uow.session, subscription_id)
        if row is None:
            _fail(f"no subscription {subscription_id} (see `myocit subscription list`)")
        target = f"{row.site} → {row.target}"
        uow.commit()
    typer.echo(f"subscription {subscription_id} ({target}) deactivated")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
