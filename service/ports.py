"""What the service layer needs from outside it, named by what it does, not by how."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from domain import Protocol as TrialProtocol


class Dispatcher(Protocol):
    """Sends work to the workers (Celery in production, a list in tests). Called after commit only;
    a send that fails loses nothing, since the sweeper re-sends stored work."""

    def evaluate(self, patient_pks: list[int], as_of: str | None = None) -> None: ...

    def deliver(self, alert_pks: list[int]) -> None: ...

    def notify(self, subscription_pks: list[int]) -> None:
        """Handshake, or send the pending events of, FHIR subscriptions (contract §16)."""
        ...

    def shadow_chunks(self, chunk_pks: list[int]) -> None:
        """One task per chunk of a shadow run (``service.shadow_runs``)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def now_on_screening_day(self) -> datetime: ...

    def today(self) -> date: ...


class ProtocolSource(Protocol):
    """The protocol version in force (contract §10): the bootstrap's ``ActiveProtocol`` follows
    activations stored in the database."""

    def current(self) -> TrialProtocol:
        """The active version as this process last read it (re-read every few seconds)."""
        ...

    def in_session(self, session: Session) -> TrialProtocol:
        """The version active in ``session``'s transaction, read exactly: what an evaluation under a
        child's row lock uses, so that no child marked by an activation is screened under the version
        it replaces."""
        ...


class JsonOverHttp(Protocol):
    """A JSON document read over HTTP(S) (an EHR's JWKS, a Patient from its FHIR server); raises on
    any failure, a status other than 2xx, a body that is not a JSON object, or ``timeout`` passing."""

    def get_json(self, url: str, bearer: str | None = None, timeout: float | None = None) -> dict: ...
