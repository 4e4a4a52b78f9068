"""A unit of work: one transaction, rolled back unless ``commit()`` is called."""

from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.session: Session
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        self.session = self._sessions()
        self._after_commit = []
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction has committed (e.g. enqueue a task)."""
        self._after_commit.append(action)

    def commit(self) -> None:
        self.session.commit()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            action()
