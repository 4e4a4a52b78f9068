"""The ``myocit`` command run in the test's own process, as a fresh process would run it.

Starting Python for each command costs a second or more of imports; a test that runs ten commands
spends its time there. ``myocit`` here runs the same Typer app (``myocit.cli.app``) with Click's test
runner, and gives each call what a new process would have: only the ``MYOCIT_*`` variables the caller
names (the others are removed, as the tests' subprocesses removed them), the settings read anew, a
runtime of its own (closed afterwards, the test's own runtime put back), the working folder asked for,
and the logging set up by the command removed afterwards. The answer reads like a finished process:
``returncode``, ``stdout``, ``stderr``.

What only a real process shows (the ``python -m myocit.cli`` entry point, signals, the processes the
service starts) stays tested with real subprocesses (tests/unit/test_project.py, test_supervisor.py,
test_container.py, tests/integration)."""

from __future__ import annotations

import logging
import os
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from typer.testing import CliRunner


@dataclass(frozen=True)
class Done:
    """What a finished ``myocit`` command left, named as ``subprocess.CompletedProcess`` names it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def myocit(*args: str, env: dict[str, str] | None = None, cwd: Path | str | None = None,
           input: str | None = None) -> Done:
    """Run ``myocit ARGS`` in process. ``env``: variables to set (``MYOCIT_*`` ones not named here are
    unset, as in the tests' clean environments); ``cwd``: the working folder during the command."""
    from myocit.cli import app

    variables: dict[str, str | None] = {name: None for name in os.environ if name.startswith("MYOCIT_")}
    variables.update(env or {})
    with _fresh_process_state(), _working_folder(cwd):
        result = CliRunner().invoke(app, list(args), env=variables, input=input, catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # An uncaught error: a process would print its traceback and exit 1.
        stderr += "".join(traceback.format_exception(result.exception))
    return Done(tuple(args), result.exit_code, result.stdout, stderr)


@contextmanager
def _working_folder(cwd: Path | str | None) -> Iterator[None]:
    before = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def _fresh_process_state() -> Iterator[None]:
    """Settings read from the environment of this call, a runtime of its own, the root logger as it was."""
    import bootstrap
    from config.settings import get_settings

    saved_runtime, saved_pid = bootstrap._runtime, bootstrap._pid
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    bootstrap._runtime = None
    get_settings.cache_clear()
    try:
        yield
    finally:
        made = bootstrap._runtime
        if made is not None and made is not saved_runtime:
            _end(made)
        bootstrap._runtime, bootstrap._pid = saved_runtime, saved_pid
        get_settings.cache_clear()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _end(made) -> None:
    """What the end of a process does to its runtime: work still gathered is sent (``atexit`` in a
    process), then the broker's and the database's connections are closed."""
    if "dispatch" in made.__dict__:
        made.dispatch.flush()
    if "celery" in made.__dict__:
        made.celery.close()
    if "engine" in made.__dict__:
        # Pooled connections closed, as at a process's end (``dispose`` keeps them, for forks): an
        # SQLite connection left open here would keep this process's later reads of the file stale.
        made.engine.dispose()
    made.dispose()
