"""What was known when (contract §11): the facts a child had received by an instant, and the facts a
stored screening used, each with when it was received. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import PatientRecord, Protocol
from store import codec
from store.models import Alert, Fact, Message, Patient, ScreeningRow
from store.screening import profile_of
from store.views import utc


@dataclass(frozen=True)
class UsedFact:
    """One stored fact as a replay shows it: where it came from, its date, when it arrived."""

    pk: int
    resource: str
    kind: str
    effective: date
    received_at: datetime
    revision: int
    payload: dict

    def to_json(self) -> dict:
        return {"resource": self.resource, "effective": self.effective.isoformat(),
                "received_at": utc(self.received_at).isoformat(), "kind": self.kind,
                "revision": self.revision, "payload": self.payload}

    def fact(self):
        return codec.load(self.kind, self.payload, revision=self.revision)


_USED = (select(Fact.pk, Fact.source, Fact.kind, Fact.effective, Message.received_at, Fact.revision, Fact.payload)
         .join(Message, Message.pk == Fact.message_pk))


def _as_stored(moment: datetime) -> datetime:
    """An instant as the column compares it: UTC (SQLite keeps UTC without its offset)."""
    return moment.astimezone(timezone.utc)


def facts_known_at(session: Session, patient_pk: int, known_at: datetime) -> list[UsedFact]:
    """The child's facts received at or before ``known_at``, in storage order."""
    rows = session.execute(_USED.where(Fact.patient_pk == patient_pk,
                                       Message.received_at <= _as_stored(known_at)).order_by(Fact.pk)).all()
    return [UsedFact(*r) for r in rows]


def facts_by_pk(session: Session, pks: list[int]) -> list[UsedFact]:
    found: list[UsedFact] = []
    for i in range(0, len(pks), 1000):
        found += [UsedFact(*r) for r in session.execute(_USED.where(Fact.pk.in_(pks[i:i + 1000]))).all()]
    return sorted(found, key=lambda f: f.pk)


def record_known_at(session: Session, row: Patient, protocol: Protocol, known_at: datetime) -> PatientRecord:
    facts = [f.fact() for f in facts_known_at(session, row.pk, known_at)]
    return PatientRecord.build(row.id, profile_of(row), facts, protocol)


def alert_with_screening(session: Session, alert_pk: int) -> tuple[Alert, Patient, ScreeningRow] | None:
    found = session.execute(select(Alert, Patient, ScreeningRow).join(Patient, Patient.pk == Alert.patient_pk)
                            .join(ScreeningRow, ScreeningRow.pk == Alert.screening_pk)
                            .where(Alert.pk == alert_pk)).first()
    return tuple(found) if found is not None else None
