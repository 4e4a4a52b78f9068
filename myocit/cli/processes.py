"""The service's processes: ``migrate``, ``api``, ``worker``, ``scheduler``, ``mllp``, and ``run``, which
starts them all under one home."""

from __future__ import annotations

import typer

from myocit.cli.kit import fail, logs, migrate_quietly, open_home, settings, with_runtime


def declare_queue(rt) -> None:
    """Declare the task queue once, before the processes of `myocit run` start: on the embedded broker
    (a table in SQLite) processes declaring it together at their start race on its row."""
    from kombu import Exchange, Queue

    celery = rt.celery
    name = celery.conf.task_default_queue
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=3)
        Queue(name, Exchange(name), routing_key=name)(connection.default_channel).declare()


def refuse_unbound_tokens(rt) -> None:
    """Tokens made before sites were required (contract §13) name no site: the service does not start
    while one is active, and says how to fix it."""
    from store.tokens import unbound_tokens

    with rt.uow() as uow:
        unbound = [(row.pk, row.role) for row in unbound_tokens(uow.session)]
    if unbound:
        listed = ", ".join(f"{pk} ({role})" for pk, role in unbound)
        fail(f"{len(unbound)} active token(s) name no site: {listed}. Every lab, coordinator and "
             "investigator token must name its sites (contract §13). Bind each with "
             "`myocit token sites ID --site SITE [--site SITE2]`, or revoke it with `myocit token revoke ID` "
             "and make a new one with `myocit token create --role ROLE --site SITE`.")


def migrate() -> None:
    """Create or upgrade the database schema (Alembic migrations) to the latest version."""
    migrate_quietly()
    typer.echo("database schema is up to date")


@with_runtime
def api(
    rt,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="HTTP port."),
    workers: int = typer.Option(1, help="HTTP worker processes."),
) -> None:
    """Run the HTTP API (contract §5). OpenAPI docs at /docs."""
    import uvicorn

    from web.http_server import HeadersInTime

    refuse_unbound_tokens(rt)
    uvicorn.run("myocit.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False, http=HeadersInTime)


@with_runtime
def worker(
    rt,
    concurrency: int = typer.Option(2, help="Worker processes."),
    loglevel: str = typer.Option("INFO", help="Celery log level."),
) -> None:
    """Run a Celery worker that evaluates patients and delivers alerts."""
    logs()
    rt.celery.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--without-gossip",
         "--without-mingle", "-Q", "myocit"]
    )


def scheduler(loglevel: str = typer.Option("INFO", help="Celery log level.")) -> None:
    """Run the scheduler (celery beat): timed re-screening of due patients, the sweeper, and the daily
    retention purge (contract §17)."""
    # Beat only sends tasks when they fall due; the processes that read the database migrate it.
    from bootstrap import private_home, runtime

    configured = settings()
    if configured.embedded:
        open_home(configured)
    private_home(configured.home, embedded=configured.embedded)
    runtime().celery.start(
        ["beat", f"--loglevel={loglevel}", f"--schedule={(configured.home / 'beat-schedule').resolve()}"]
    )


@with_runtime
def mllp(
    rt,
    host: str | None = typer.Option(None, help="Interface to listen on (default MYOCIT_MLLP_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="MLLP port (default MYOCIT_MLLP_PORT, 2575)."),
    processes: int = typer.Option(1, "--processes", min=1,
                                  help="Listener processes sharing the port (each its own cores and connections)."),
) -> None:
    """Listen for HL7 v2 over MLLP (contract §6): ORU^R01 from registered senders (`myocit sender`),
    each answered with its ACK once stored. Addresses allowed: MYOCIT_MLLP_ALLOW (default loopback)."""
    import asyncio

    from config.settings import SettingsError
    from mllp.server import serve

    configured = settings()
    try:
        configured.mllp_networks()
    except SettingsError as exc:
        fail(str(exc))
    if (configured.mllp_tls_cert is None) != (configured.mllp_tls_key is None):
        fail("MYOCIT_MLLP_TLS_CERT and MYOCIT_MLLP_TLS_KEY go together")
    logs()
    try:
        if processes > 1:
            from mllp.processes import serve_processes

            rt.dispose()  # each listener process opens its own connections
            code = serve_processes(processes, host=host or configured.mllp_host,
                                   port=configured.mllp_port if port is None else port)
            raise typer.Exit(code)
        asyncio.run(serve(rt, host=host, port=port))
    except OSError as exc:
        fail(f"cannot listen for MLLP: {exc.strerror or exc}")


def run(
    port: int = typer.Option(8000, help="HTTP port on 127.0.0.1."),
    concurrency: int = typer.Option(1, help="Worker processes."),
    mllp_port: int = typer.Option(2575, "--mllp-port", help="MLLP port (HL7 v2 over TCP); 0 turns it off."),
    mllp_processes: int = typer.Option(2, "--mllp-processes", min=1, help="MLLP listener processes on that port."),
) -> None:
    """Run the whole service in one process tree: API, worker, scheduler and MLLP listener.

    With no configuration: SQLite database and SQLite-backed broker in MYOCIT_HOME (default
    ~/.local/share/myocit, the same from any folder). With
    MYOCIT_DATABASE_URL and MYOCIT_BROKER_URL set: PostgreSQL and Redis.
    """
    from myocit.supervisor import AlreadyRunning, home_lock

    # The lock comes first: a second `myocit run` on this home is refused before it touches anything.
    try:
        with home_lock(settings().home):
            code = _supervise(port=port, concurrency=concurrency, mllp_port=mllp_port,
                              mllp_processes=mllp_processes)
    except AlreadyRunning as exc:
        fail(str(exc))
    raise typer.Exit(code)


@with_runtime
def _supervise(rt, *, port: int, concurrency: int, mllp_port: int, mllp_processes: int) -> int:
    from myocit.supervisor import supervise

    configured = settings()
    refuse_unbound_tokens(rt)
    declare_queue(rt)
    typer.echo(f"myocit: data in {configured.home if configured.embedded else 'the configured database'}; "
               f"API on http://127.0.0.1:{port} (docs at /docs)"
               + (f"; MLLP on {configured.mllp_host}:{mllp_port}" if mllp_port else "")
               + "; Ctrl-C stops everything")
    return supervise(port=port, concurrency=concurrency, mllp_port=mllp_port, home=configured.home,
                     log_level=configured.log_level, mllp_processes=mllp_processes)
