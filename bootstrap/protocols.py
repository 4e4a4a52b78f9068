"""The active protocol version for this process (contract §10): the one stored in the database by
``myocit protocol activate``, else ``MYOCIT_PROTOCOL_VERSION``. Every process (API, workers,
scheduler, command line) follows an activation without a restart."""

from __future__ import annotations

import threading
import time
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from config.protocol_files import load_protocol, load_protocol_files, locate, read_version_files
from config.settings import Settings
from domain import Protocol
from service.ports import ProtocolSource
from store import protocols


class ActiveProtocol(ProtocolSource):
    """Re-reads which version is active at most every ``protocol_refresh_seconds`` (one cheap query);
    a version once loaded is kept by its activation's pk (protocols are immutable). ``in_session``
    reads it exactly, in the caller's transaction: what evaluation uses, so that no child marked by an
    activation is screened under the version it replaces."""

    def __init__(self, settings: Settings, engine: Callable[[], Engine]) -> None:
        self._settings = settings
        self._engine = engine
        self._loaded: dict[int | None, tuple[str, Protocol]] = {}
        self._key: int | None = None
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def default(self) -> Protocol:
        return load_protocol(self._settings.protocol_version, self._settings.protocols)

    def current(self) -> Protocol:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self._settings.protocol_refresh_seconds:
            with Session(self._engine()) as session:
                self._key = protocols.active_pk(session)
                protocol = self._for(session, self._key)
            self._read_at = now
            return protocol
        return self._loaded[self._key][1] if self._key in self._loaded else self.default()

    def name(self) -> str:
        self.current()
        return self._loaded[self._key][0] if self._key in self._loaded else self._settings.protocol_version

    def in_session(self, session: Session) -> Protocol:
        return self._for(session, protocols.active_pk(session))

    def files(self) -> tuple[str, dict[str, str]]:
        """The active version's name and files, as stored by its activation or as installed (the
        configured version): what a worker on another machine loads to screen under it."""
        with Session(self._engine()) as session:
            row = protocols.active(session)
            if row is not None:
                return row.name, dict(row.files)
        name = self._settings.protocol_version
        return name, read_version_files(locate(name, self._settings.protocols))

    def forget(self) -> None:
        """Read the active version again at the next use (after an activation in this process)."""
        self._read_at = None

    def _for(self, session: Session, key: int | None) -> Protocol:
        with self._lock:
            if key in self._loaded:
                return self._loaded[key][1]
        if key is None:
            found = (self._settings.protocol_version, self.default())
        else:
            row = protocols.activation(session, key)
            found = (row.name, load_protocol_files(row.name, row.files))
        with self._lock:
            self._loaded[key] = found
        return found[1]
