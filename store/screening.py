"""What evaluating a patient reads and writes, under its row lock, and what the scheduler and sweeper
look for. The use case itself (evaluate, decide the alert, store) is ``service.evaluation``.

Two workers never evaluate one patient at once: evaluation holds the patient row lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer on the embedded default) from reading
``pending_seq`` to writing the result. Intake bumps ``pending_seq`` under the same row, so facts
committed while an evaluation runs leave the patient pending, and their own task evaluates again:
no update is lost, and a task finding nothing pending does nothing.
"""

from __future__ import annotations

import threading
import weakref
from datetime import date, datetime

from sqlalchemy import Engine, bindparam, case, null, select, update
from sqlalchemy.orm import Session

from domain import PatientRecord, Protocol
from domain.facts import PatientProfile, Sex
from domain.verdicts import Screening as Result
from store import codec, log_rows
from store.models import Alert, Fact, Outbox, Patient, ScreeningRow

def profile_of(row: Patient) -> PatientProfile:
    return PatientProfile(row.birth_date, Sex(row.sex) if row.sex else Sex.UNKNOWN, row.site)


_PAYLOADS = select(Fact.pk, Fact.kind, Fact.payload, Fact.revision)
_PAYLOADS_BY_PK = _PAYLOADS.where(Fact.pk.in_(bindparam("pks", expanding=True)))
# Every fact of the child, with the payload only of those above ``after`` (none decoded yet): one
# statement a reading, its text prepared once.
_FACTS_OF = (select(Fact.pk, Fact.kind, case((Fact.pk > bindparam("after"), Fact.payload), else_=null()),
                    Fact.revision)
             .where(Fact.patient_pk == bindparam("patient")).order_by(Fact.pk))


class DecodedFacts:
    """Facts decoded from the rows of one database, kept by row pk for the life of the engine.

    A fact row is never changed once written (a correction or a retraction is a new fact; only the
    patient link of a fact posted before its Patient is filled in later), so what was decoded once
    stays true. Re-evaluating a child with a long history then reads, in one statement, the list of
    its facts with the payloads of those newer than any decoded for it, and decodes only those. A fact
    linked to the child later, or one let go when the cache was full, is read again by pk. Bounded:
    the oldest entries go first when full.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._facts: dict[int, object] = {}
        self._newest: dict[int, int] = {}  # patient pk -> the highest fact pk read with its payload
        self._lock = threading.Lock()  # the API computes ?as_of= screenings in a thread pool

    def for_patient(self, session: Session, patient_pk: int) -> tuple[list, list[int]]:
        conn = session.connection()
        with self._lock:
            after = self._newest.get(patient_pk, 0)
        rows = conn.execute(_FACTS_OF, {"patient": patient_pk, "after": after}).all()
        pks = [row[0] for row in rows]
        found = _decoded(row for row in rows if row[2] is not None)
        with self._lock:
            cached = {pk: self._facts[pk] for pk in pks if pk not in found and pk in self._facts}
        missing = [pk for pk in pks if pk not in found and pk not in cached]
        for start in range(0, len(missing), 1000):
            found.update(_decoded(conn.execute(_PAYLOADS_BY_PK, {"pks": missing[start:start + 1000]})))
        if found:
            with self._lock:
                self._make_room(len(found))
                self._facts.update(found)
                if pks:
                    self._newest[patient_pk] = max(pks[-1], self._newest.get(patient_pk, 0))
        return [found[pk] if pk in found else cached[pk] for pk in pks], pks

    def _make_room(self, coming: int) -> None:
        excess = len(self._facts) + coming - self.capacity
        if excess > 0:
            for pk in list(self._facts)[:max(excess, self.capacity // 10)]:
                del self._facts[pk]


def _decoded(rows) -> dict[int, object]:
    """(pk, kind, payload, revision) rows as facts by pk. The revision column is the storage order
    (contract §13); it governs over the payload's copy."""
    return {pk: codec.load(kind, payload, revision=revision) for pk, kind, payload, revision in rows}


_DECODED: "weakref.WeakKeyDictionary[Engine, DecodedFacts]" = weakref.WeakKeyDictionary()


def decoded_facts(engine: Engine) -> DecodedFacts:
    """One cache per database engine: row pks mean something only within their database."""
    cache = _DECODED.get(engine)
    if cache is None:
        cache = _DECODED.setdefault(engine, DecodedFacts())
    return cache


def load_record(session: Session, row: Patient, protocol: Protocol) -> tuple[PatientRecord, list[int]]:
    facts, pks = decoded_facts(session.get_bind()).for_patient(session, row.pk)
    return PatientRecord.build(row.id, profile_of(row), facts, protocol), pks


def lock_patient(session: Session, patient_pk: int):
    """The patient's row, locked until commit: two workers never evaluate one child at once."""
    return session.connection().execute(_LOCK_PATIENT, {"pk": patient_pk}).first()


def previous_verdicts(session: Session, patient_pk: int) -> dict[str, str]:
    """The verdict of each criterion in the latest stored screening, by criterion id."""
    last = session.connection().scalar(_LAST_RESULT, {"pk": patient_pk}) or {}
    return {c["id"]: c["verdict"] for c in last.get("criteria", [])}


LETTERS = {"pass": "p", "fail": "f", "unknown": "u", "review": "r"}
VERDICT_OF = {letter: verdict for verdict, letter in LETTERS.items()}


def compact(criteria: list[dict]) -> str:
    """A result's verdicts as one letter each, in its criteria's order (contract §1's)."""
    return "".join(LETTERS[c["verdict"]] for c in criteria)


def expand(verdicts: str, ids: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple(zip(ids, (VERDICT_OF[letter] for letter in verdicts)))


def add_screening(session: Session, row, result: Result, fact_pks: list[int], *, now: datetime,
                  trigger: str) -> int:
    """Append the screening and, in the same transaction, bring the child's log row up to date."""
    body = result.to_json()
    verdicts = compact(body["criteria"])
    screening_pk = session.connection().execute(_INSERT_SCREENING, {
        "patient_pk": row.pk, "created_at": now, "as_of": result.as_of, "status": result.status.value,
        "protocol_version": result.protocol_version, "result": body, "fact_pks": fact_pks,
        "trigger": trigger, "verdicts": verdicts, "eligible_from": result.eligible_from,
        "eligible_until": result.eligible_until, "reasons": result.reasons(),
    }).scalar_one()
    log_rows.after_screening(session, row.pk, screening_pk, as_of=result.as_of, status=result.status.value,
                             verdicts=[(c["id"], c["verdict"]) for c in body["criteria"]], eligible_from=result.eligible_from,
                             eligible_until=result.eligible_until, protocol_version=result.protocol_version)
    return screening_pk


def add_alert(session: Session, row, screening_pk: int, change, now: datetime) -> int:
    """The alert of a status change and, in the same transaction, its outbox event."""
    conn = session.connection()
    alert_pk = conn.execute(_INSERT_ALERT, {
        "patient_pk": row.pk, "screening_pk": screening_pk, "site": row.site, "from_status": change.from_status,
        "to_status": change.to_status, "changed": list(change.changed), "created_at": now,
        "confirmed": bool(getattr(change, "confirmed", False)),
    }).scalar_one()
    conn.execute(_INSERT_OUTBOX, {"topic": "alert.created", "ref": alert_pk, "payload": {"alert": alert_pk},
                                  "created_at": now})
    return alert_pk


def record_evaluation(session: Session, row, result: Result, *, now: datetime,
                      alerts_stopped_at: datetime | None) -> None:
    """The patient row after an evaluation: its status, next review and the pending mark closed."""
    session.connection().execute(_RECORD_EVALUATION, {
        "patient": row.pk, "status": result.status.value, "as_of": result.as_of,
        "next_review_at": result.next_review_at, "evaluated_seq": row.pending_seq, "updated_at": now,
        "alerts_stopped_at": alerts_stopped_at, "screened_version": result.protocol_version,
    })


_LOCK_PATIENT = select(Patient.__table__).where(Patient.pk == bindparam("pk")).with_for_update()
_LAST_RESULT = (select(ScreeningRow.result).where(ScreeningRow.patient_pk == bindparam("pk"))
                .order_by(ScreeningRow.pk.desc()).limit(1))
_INSERT_SCREENING = ScreeningRow.__table__.insert().returning(ScreeningRow.pk)
_INSERT_ALERT = Alert.__table__.insert().returning(Alert.pk)
_INSERT_OUTBOX = Outbox.__table__.insert()
_RECORD_EVALUATION = (
    update(Patient)
    .where(Patient.pk == bindparam("patient"))
    .values(status=bindparam("status"), as_of=bindparam("as_of"), next_review_at=bindparam("next_review_at"),
            evaluated_seq=bindparam("evaluated_seq"), updated_at=bindparam("updated_at"),
            alerts_stopped_at=bindparam("alerts_stopped_at"), failed_seq=None, failure=None, failed_at=None,
            screened_version=bindparam("screened_version"))
)

_NOT_FAILED = Patient.failed_seq.is_(None) | (Patient.failed_seq < Patient.pending_seq)
"""A patient whose evaluation failed for good is left alone until new data moves ``pending_seq`` on."""


def mark_failed(session: Session, patient_pk: int, kind: str, now: datetime) -> None:
    """Evaluating this patient failed for good at its current ``pending_seq``: record the error's kind
    (never its message). Clearing ``enqueued_at`` makes the next message for the child send a task at
    once; the sweeper skips the patient until then."""
    session.execute(
        update(Patient).where(Patient.pk == patient_pk)
        .values(failed_seq=Patient.pending_seq, failure=kind[:80], failed_at=now, enqueued_at=None)
    )


def due_for_review(session: Session, today: date, limit: int = 1000) -> list[int]:
    """Patients whose next review date has come (catching up on any days missed), oldest first."""
    return list(
        session.scalars(
            select(Patient.pk)
            .where(Patient.next_review_at <= today, Patient.registered.is_(True), Patient.failed_seq.is_(None))
            .order_by(Patient.next_review_at)
            .limit(limit)
        )
    )


def mark_for_review(session: Session, patient_pks: list[int], now: datetime) -> None:
    """Clearing ``next_review_at`` here means a patient is picked once, and again only after the
    evaluation sets the next date."""
    if patient_pks:
        session.execute(
            update(Patient)
            .where(Patient.pk.in_(patient_pks))
            .values(pending_seq=Patient.pending_seq + 1, next_review_at=None, enqueued_at=now)
        )


def pending(session: Session, limit: int, skip: set[int] = frozenset()) -> list[int]:
    """Registered patients still pending (those failed for good left out), longest waiting first,
    without those of ``skip``."""
    query = select(Patient.pk).where(Patient.pending_seq > Patient.evaluated_seq, Patient.registered.is_(True),
                                     _NOT_FAILED)
    if skip:
        query = query.where(Patient.pk.not_in(skip))
    return list(session.scalars(query.order_by(Patient.enqueued_at.is_not(None), Patient.enqueued_at, Patient.pk)
                                .limit(limit)))


def stalled(session: Session, older_than: datetime, limit: int = 1000) -> list[int]:
    """Patients still pending whose task was sent long ago: it never reached a worker, or died. The
    oldest first, so that no patient waits behind newer ones; those failed for good are left out."""
    return list(
        session.scalars(
            select(Patient.pk)
            .where(
                Patient.pending_seq > Patient.evaluated_seq,
                Patient.registered.is_(True),
                (Patient.enqueued_at.is_(None)) | (Patient.enqueued_at < older_than),
                _NOT_FAILED,
            )
            .order_by(Patient.enqueued_at.is_not(None), Patient.enqueued_at, Patient.pk)
            .limit(limit)
        )
    )


def touch_enqueued(session: Session, patient_pks: list[int], now: datetime) -> None:
    if patient_pks:
        session.execute(update(Patient).where(Patient.pk.in_(patient_pks)).values(enqueued_at=now))


def undispatched(session: Session, older_than: datetime, limit: int = 1000) -> list[Outbox]:
    return list(
        session.scalars(
            select(Outbox)
            .where(Outbox.dispatched_at.is_(None), Outbox.created_at < older_than)
            .order_by(Outbox.pk)
            .limit(limit)
        )
    )

