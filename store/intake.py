"""Storing an inbound message and what it says, in one transaction.

A message is kept verbatim; each fact it carries is filed under its patient, or under how the
message named the patient when that patient is not registered yet (linked when the Patient arrives).
Every patient touched gets ``pending_seq`` bumped: the durable mark that it needs re-evaluation,
which the sweeper honours even if the task sent after commit never reaches a worker.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, case, exists, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.facts import Fact, PatientProfile
from store import codec
from store.models import Fact as FactRow
from store.models import Message, Patient, PatientIdentifier


@dataclass(frozen=True)
class Subject:
    """How a message names its patient: by id, or by an identifier (system None: any system)."""

    kind: str
    value: str
    system: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "id":
            return f"id:{self.value}"
        return f"ident:{self.system or ''}|{self.value}"


@dataclass(frozen=True)
class Registration:
    """A Patient resource: who the patient is and how other messages may name them."""

    id: str
    profile: PatientProfile
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass
class Item:
    """One resource (or one HL7 result group) of a message."""

    subject: Subject | None
    facts: list[Fact] = field(default_factory=list)
    registration: Registration | None = None


@dataclass
class Stored:
    message_pk: int
    duplicate_of: int | None
    enqueue: list[int] = field(default_factory=list)
    """The patients whose evaluation task is to be sent once the transaction commits."""


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_FIND_DUPLICATE = select(Message.pk).where(Message.sha256 == bindparam("sha256")).limit(1)
_MESSAGE_COLUMNS = ("received_at", "channel", "content_type", "body", "sha256", "sender", "control_id", "fact_count")
# One round trip for the usual case: the message is inserted unless the same body is already stored.
_INSERT_NEW_MESSAGE = (
    insert(Message)
    .from_select(
        _MESSAGE_COLUMNS,
        select(*(bindparam(name, type_=Message.__table__.c[name].type) for name in _MESSAGE_COLUMNS))
        .where(~exists().where(Message.sha256 == bindparam("sha256"))),
    )
    .returning(Message.pk)
)
_INSERT_FACTS = FactRow.__table__.insert()
_FACT_COLUMNS = ("message_pk", "patient_pk", "subject_key", "kind", "source", "revision", "effective", "payload")
_COPY_FACTS = f"COPY {FactRow.__tablename__} ({', '.join(_FACT_COLUMNS)}) FROM STDIN"
_WAS_COVERED = (Patient.pending_seq > Patient.evaluated_seq) & Patient.enqueued_at.is_not(None)
_MARK_PENDING = (
    update(Patient)
    .where(Patient.pk.in_(bindparam("pks", expanding=True)))
    .values(pending_seq=Patient.pending_seq + 1,
            enqueued_at=case((_WAS_COVERED, Patient.enqueued_at), else_=bindparam("now")))
    # RETURNING sees the new values: a row whose enqueued_at became :now is one that needs its task.
    .returning(Patient.pk, Patient.enqueued_at == bindparam("now"))
)


def _insert_facts(conn, rows: list[dict]) -> None:
    """On PostgreSQL (psycopg), COPY: a bundle's facts in one round trip, at a fraction of the CPU
    of a multi-row INSERT (whose long text psycopg re-parses on every call). Elsewhere, executemany."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        conn.execute(_INSERT_FACTS, rows)
        return
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(_COPY_FACTS) as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c == "payload" else row[c] for c in _FACT_COLUMNS])
    except conn.dialect.loaded_dbapi.Error as exc:
        # COPY goes around SQLAlchemy: give its errors SQLAlchemy's types (a lost server becomes an
        # OperationalError, answered 503) and drop a dead connection as SQLAlchemy would.
        lost = conn.dialect.is_disconnect(exc, driver, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(_COPY_FACTS, None, exc, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from exc


def _subject_keys(reg: Registration) -> list[str]:
    keys = [f"id:{reg.id}", f"ident:|{reg.id}"]
    for system, value in reg.identifiers:
        keys += [f"ident:{system}|{value}", f"ident:|{value}"]
    return keys


def _register(session: Session, reg: Registration, now: datetime) -> int:
    row = session.scalar(select(Patient).where(Patient.id == reg.id).with_for_update())
    if row is None:
        row = Patient(id=reg.id, pending_seq=0, evaluated_seq=0)
        session.add(row)
    row.registered = True
    row.birth_date = reg.profile.birth_date
    row.sex = reg.profile.sex.value
    row.site = reg.profile.site
    row.updated_at = now
    session.flush()
    for system, value in reg.identifiers:
        held = session.scalar(
            select(PatientIdentifier).where(PatientIdentifier.system == system, PatientIdentifier.value == value)
        )
        if held is None:
            session.add(PatientIdentifier(patient_pk=row.pk, system=system, value=value))
        elif held.patient_pk != row.pk:
            held.patient_pk = row.pk
    session.execute(
        update(FactRow)
        .where(FactRow.patient_pk.is_(None), FactRow.subject_key.in_(_subject_keys(reg)))
        .values(patient_pk=row.pk)
    )
    return row.pk


def resolve(session: Session, subject: Subject) -> int | None:
    conn = session.connection()
    if subject.kind == "id":
        return conn.scalar(select(Patient.pk).where(Patient.id == subject.value))
    conditions = [PatientIdentifier.value == subject.value]
    if subject.system:
        conditions.append(PatientIdentifier.system == subject.system)
    pk = conn.scalar(select(PatientIdentifier.patient_pk).where(*conditions).limit(1))
    if pk is None and not subject.system:
        pk = conn.scalar(select(Patient.pk).where(Patient.id == subject.value))
    return pk


def store_message(
    session: Session,
    *,
    channel: str,
    content_type: str,
    body: str,
    sender: str | None,
    items: list[Item],
    now: datetime,
    control_id: str | None = None,
) -> Stored:
    """Keep the message and its facts; mark every patient it touches for re-evaluation.

    A body already stored is not stored again: the result names the earlier message (``duplicate_of``).
    """
    # Core statements on the session's connection, not ORM objects: this runs for every message a lab posts.
    conn = session.connection()
    sha256 = digest(body)
    message_pk = conn.execute(_INSERT_NEW_MESSAGE, {
        "received_at": now,
        "channel": channel,
        "content_type": content_type,
        "body": body,
        "sha256": sha256,
        "sender": sender,
        "control_id": control_id,
        "fact_count": sum(len(i.facts) for i in items),
    }).scalar()
    if message_pk is None:
        earlier = conn.scalar(_FIND_DUPLICATE, {"sha256": sha256})
        return Stored(earlier, earlier)
    touched: set[int] = set()
    for item in items:
        if item.registration is not None:
            touched.add(_register(session, item.registration, now))
    resolved: dict[str, int | None] = {}
    rows = []
    for item in items:
        if not item.facts or item.subject is None:
            continue
        key = item.subject.key
        if key not in resolved:
            resolved[key] = resolve(session, item.subject)
        patient_pk = resolved[key]
        if patient_pk is not None:
            touched.add(patient_pk)
        for fact in item.facts:
            rows.append(
                {
                    "message_pk": message_pk,
                    "patient_pk": patient_pk,
                    "subject_key": key,
                    "kind": type(fact).__name__,
                    "source": fact.source,
                    "revision": fact.revision,
                    "effective": fact.on,
                    "payload": codec.dump(fact),
                }
            )
    if rows:
        _insert_facts(conn, rows)
    return Stored(message_pk, None, mark_pending(session, sorted(touched), now) if touched else [])


def mark_pending(session: Session, patient_pks: list[int], now: datetime) -> list[int]:
    """Mark patients for re-evaluation; return those that need a task sent.

    A patient already pending with a task sent is covered by that task: the evaluation reads
    ``pending_seq`` under the row lock this update holds until commit, so it will see these facts too.
    Sending nothing more is what makes a burst of messages for one child cost one evaluation. Its
    ``enqueued_at`` is left as it was, so a task that was lost still looks stale to the sweeper.
    """
    rows = session.connection().execute(_MARK_PENDING, {"pks": patient_pks, "now": now}).all()
    return sorted(pk for pk, needs_task in rows if needs_task)


__all__ = ["Item", "Registration", "Stored", "Subject", "store_message"]
