"""What every command group shares: the one-line error, the actor the audit log names, the service's
settings and logs, and ``with_runtime``, through which a command reaches the database."""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import typer

COMMAND_LINE = "command line"
"""Who the audit log names for what an operator does with this command on the server."""


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"myocit: {message}", err=True)
    raise typer.Exit(code)


def settings():
    from config.settings import get_settings

    return get_settings()


def logs() -> None:
    from config.logs import configure

    configured = settings()
    configure(configured.log_level, configured.log_format)


def handled(call):
    """Run a use case; its refusals (not found, invalid) become a one-line error and exit code 2."""
    from service.errors import Conflict, Invalid, NotFound
    from store.tombstones import KeyMissing

    try:
        return call()
    except (NotFound, Invalid, Conflict, KeyMissing) as exc:
        fail(str(exc))


def open_home(configured) -> None:
    """The embedded home, created with a line on stderr saying where; refused when the default home is
    new but the working folder holds the data of an earlier version's default (``./var``), so that no
    command silently starts an empty database beside the one that was meant."""
    from config.settings import EARLIER_DEFAULT_HOME
    from bootstrap import EMBEDDED_FILES, private_home

    if (configured.home / EMBEDDED_FILES[0]).exists():
        private_home(configured.home)
        return
    earlier = (EARLIER_DEFAULT_HOME / EMBEDDED_FILES[0]).absolute()
    if configured.home_is_default and earlier.exists():
        fail(f"the default home is {configured.home} and holds no data, but {earlier.parent} holds an earlier "
             f"version's: set MYOCIT_HOME={earlier.parent} to use it, or move its files to {configured.home}. "
             "Nothing was created.")
    private_home(configured.home)
    typer.echo(f"myocit: new home {configured.home} (MYOCIT_HOME): its database starts empty", err=True)


def migrate_quietly() -> None:
    """Bring the schema up to date, saying nothing unless the settings are wrong or a home is new."""
    from config.settings import SettingsError
    from store.migrate import upgrade

    configured = settings()
    try:
        configured.authority_systems()
    except SettingsError as exc:
        fail(str(exc))
    if configured.embedded:
        open_home(configured)
    upgrade(configured.resolved_database_url())


def with_runtime(command: Callable) -> Callable:
    """A command that works on the service's data: the schema is brought up to date first (quietly), then
    the command runs with the runtime as its first argument. Typer sees the command's other parameters
    only, so its options and help are the command's own.

    Arguments checked before anything is touched stay in the command, which then calls a function made
    with this: a mistyped option creates no home and migrates nothing."""
    signature = inspect.signature(command)
    runtime_parameter, *options = signature.parameters.values()

    @functools.wraps(command)
    def on_the_database(*args, **kwargs):
        from bootstrap import runtime

        migrate_quietly()
        return command(runtime(), *args, **kwargs)

    on_the_database.__signature__ = signature.replace(parameters=options)
    on_the_database.__annotations__ = {name: annotation for name, annotation in command.__annotations__.items()
                                       if name != runtime_parameter.name}
    return on_the_database
