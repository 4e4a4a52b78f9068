"""What a process needs to do work: settings, database, protocol, clock, Celery. Built on first use
in each process (never at import), and rebuilt after a fork so no connection crosses processes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.clock import Clock
from config.protocol_files import load_protocol
from config.settings import Settings, get_settings
from domain import Protocol
from store.db import make_engine, make_session_factory
from store.uow import UnitOfWork


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        if self.settings.embedded:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        return make_engine(self.settings.resolved_database_url())

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def protocol(self) -> Protocol:
        return load_protocol(self.settings.protocol_version)

    @cached_property
    def clock(self) -> Clock:
        return Clock(self.settings)

    @cached_property
    def celery(self) -> Celery:
        from workers.app import create_celery

        return create_celery(self.settings)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose(close=False)
            del self.__dict__["engine"]
            self.__dict__.pop("sessions", None)


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
