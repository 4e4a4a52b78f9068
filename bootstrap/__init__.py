"""The one bootstrap of every entry point (API, worker, scheduler, command line): settings, clock,
database, protocol, Celery and the dispatcher of tasks, wired once. Built on first use in each process
(never at import), and rebuilt after a fork so no connection crosses processes. Tests build their own
``Runtime`` (a fixed clock, a collecting dispatcher) and ``install`` it."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bootstrap.celery_app import create_celery
from bootstrap.dispatch import CeleryDispatcher
from config.clock import Clock
from bootstrap.protocols import ActiveProtocol
from config.settings import Settings, get_settings
from domain import Protocol
from store.db import make_engine, make_session_factory
from store.uow import UnitOfWork
from domain.privacy import Keyring


class Runtime:
    """``clock`` and ``celery`` may be given (tests: a movable clock, a stand-in that records what is
    sent); otherwise they are built from the settings."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, celery: Celery | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock(settings)
        if celery is not None:
            self.__dict__["celery"] = celery

    def __repr__(self) -> str:
        return f"Runtime({'embedded' if self.settings.embedded else 'configured'}, home={self.settings.home})"

    @cached_property
    def engine(self) -> Engine:
        if self.settings.embedded:
            private_home(self.settings.home)
        return make_engine(self.settings.resolved_database_url())

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, keyring=self.keyring)

    def keyring(self) -> Keyring:
        """The pseudonym keys (contract §17), read when first needed: ``SettingsError`` naming
        ``MYOCIT_PSEUDONYM_KEY`` when a deployment with its own database has none."""
        if "_keyring" not in self.__dict__:
            self.__dict__["_keyring"] = Keyring(self.settings.resolved_pseudonym_key(),
                                                tuple(self.settings.resolved_old_pseudonym_keys()))
        return self.__dict__["_keyring"]

    @property
    def protocol(self) -> Protocol:
        """The active version (stored in the database by an activation, else the configured one),
        read again every few seconds: no restart is needed after ``myocit protocol activate``."""
        return self.protocols.current()

    @cached_property
    def protocols(self) -> ActiveProtocol:
        return ActiveProtocol(self.settings, lambda: self.engine)

    @cached_property
    def celery(self) -> Celery:
        return create_celery(self.settings)

    @cached_property
    def dispatch(self) -> CeleryDispatcher:
        """How handlers send work to the workers, once their transaction has committed."""
        return CeleryDispatcher(lambda: self.celery, batch=self.settings.evaluation_batch,
                                window_seconds=self.settings.dispatch_window_ms / 1000)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose(close=False)
            del self.__dict__["engine"]
            self.__dict__.pop("sessions", None)


EMBEDDED_FILES = ("myocit.sqlite", "broker.sqlite")


def private_home(home: Path, *, embedded: bool = True) -> None:
    """The embedded default's folder and files, readable by their owner only (contract §13): the
    database holds every message verbatim. Files are created empty with mode 0600 before SQLite or
    the broker opens them (SQLite gives its -wal and -shm files the database's mode), and files left
    by an earlier version are narrowed."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    for name in EMBEDDED_FILES if embedded else ():
        os.close(os.open(home / name, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in home.iterdir():
        if path.is_file():
            os.chmod(path, 0o600)


_runtime: Runtime | None = None
_pid: int | None = None


def runtime() -> Runtime:
    global _runtime, _pid
    if _runtime is None:
        _runtime = Runtime(get_settings())
        _pid = os.getpid()
    elif _pid != os.getpid():
        _runtime.dispose()
        _pid = os.getpid()
    return _runtime


def install(custom: Runtime) -> None:
    """Use ``custom`` in this process (tests, benchmarks)."""
    global _runtime, _pid
    _runtime = custom
    _pid = os.getpid()


@worker_process_init.connect
def _fresh_connections_after_fork(**_) -> None:
    """A forked worker process opens its own connections (here, beside ``runtime``: every task module
    imports this package before its Celery app)."""
    runtime().dispose()
