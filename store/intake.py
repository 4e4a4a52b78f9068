"""Storing an inbound message and what it says, in one transaction.

A message is kept verbatim; each fact it carries is filed under its patient, or under how the
message named the patient when that patient is not registered yet (linked when the Patient arrives).
Every patient touched gets ``pending_seq`` bumped: the durable mark that it needs re-evaluation,
which the sweeper honours even if the task sent after commit never reaches a worker.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, case, exists, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.facts import Attestation, ConsentRecord, Fact
from domain.identity import (
    Authority,
    Candidate,
    Match,
    Refusal,
    Refused,
    attestation_refusal,
    identifiers_free,
    match_any,
    match_exact,
    match_within_sites,
    registration_site,
)
from ingest.items import Item, Registration, Subject
from store import codec
from store.models import Fact as FactRow
from store.models import Message, Patient, PatientIdentifier
from store.tokens import Caller


@dataclass
class Stored:
    message_pk: int | None
    duplicate_of: int | None
    enqueue: list[int] = field(default_factory=list)
    """The patients whose evaluation task is to be sent once the transaction commits."""
    refused: dict[int, Refusal] = field(default_factory=dict)
    """Items of a batch refused (by their index in ``items``); the others are stored."""
    ack_code: str | None = None
    """HL7 v2: the acknowledgement code the message (or, for a duplicate, the original) was given."""


REVISION_STRIDE = 1 << 24
"""A fact's revision is its message's pk times this, plus its item's place in the message: versions of
a resource are ordered as myocit stored them, never by anything the sender controls (§13)."""


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_FIND_DUPLICATE = select(Message.pk).where(Message.sha256 == bindparam("sha256")).limit(1)
_MESSAGE_COLUMNS = ("received_at", "channel", "content_type", "body", "sha256", "sender", "control_id", "fact_count",
                    "hl7_application", "hl7_facility", "ack_code")
_FIND_CONTROL_ID = (
    select(Message.pk, Message.ack_code)
    .where(Message.hl7_application == bindparam("application"), Message.hl7_facility == bindparam("facility"),
           Message.control_id == bindparam("control_id"), Message.sender == bindparam("sender"))
    .order_by(Message.pk)
    .limit(1)
)
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
_FACT_COLUMNS = ("message_pk", "patient_pk", "subject_key", "scope", "kind", "source", "revision", "effective",
                 "payload")
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
        keys.append(f"ident:|{value}")
        if system:
            keys.append(f"ident:{system}|{value}")
    return keys


_PATIENT_BY_ID = select(Patient.pk, Patient.site).where(Patient.id == bindparam("id"))
_HOLDER_OF_PAIR = (select(PatientIdentifier.patient_pk, Patient.site)
                   .join(Patient, Patient.pk == PatientIdentifier.patient_pk)
                   .where(PatientIdentifier.system == bindparam("system"), PatientIdentifier.value == bindparam("value")))
_HOLDERS_OF_VALUE = (select(PatientIdentifier.patient_pk, Patient.site)
                     .join(Patient, Patient.pk == PatientIdentifier.patient_pk)
                     .where(PatientIdentifier.value == bindparam("value")))


def _candidate(row) -> Candidate | None:
    return Candidate(row[0], row[1]) if row is not None else None


def find(conn, subject: Subject, authority: Authority) -> Match:
    """The patient ``subject`` names, under the matching rules of contract §13."""
    if subject.kind == "id":
        return match_exact(_candidate(conn.execute(_PATIENT_BY_ID, {"id": subject.value}).first()), authority)
    if subject.system:
        holder = conn.execute(_HOLDER_OF_PAIR, {"system": subject.system, "value": subject.value}).first()
        return match_exact(_candidate(holder), authority)
    candidates = [Candidate(pk, site) for pk, site in conn.execute(_HOLDERS_OF_VALUE, {"value": subject.value})]
    by_id = conn.execute(_PATIENT_BY_ID, {"id": subject.value}).first()
    if by_id is not None:
        candidates.append(Candidate(by_id[0], by_id[1]))
    return match_within_sites(candidates, authority)


def _check_registration(conn, reg: Registration, authority: Authority) -> Refusal | str:
    """The site the Patient is stored at, or why it is refused; reads only, so a refusal leaves
    nothing half-written."""
    stored = _candidate(conn.execute(_PATIENT_BY_ID, {"id": reg.id}).first())
    site = registration_site(stored, reg.site, authority)
    if isinstance(site, Refusal):
        return site
    holders = [pk for system, value in reg.identifiers if system
               for pk, _site in conn.execute(_HOLDER_OF_PAIR, {"system": system, "value": value})]
    if not identifiers_free(holders, stored.patient if stored is not None else None):
        return Refusal.IDENTIFIER_HELD
    return site


def _register(session: Session, reg: Registration, site: str, now: datetime) -> int:
    row = session.scalar(select(Patient).where(Patient.id == reg.id).with_for_update())
    if row is None:
        row = Patient(id=reg.id, pending_seq=0, evaluated_seq=0, site=site)
        session.add(row)
    row.site = row.site or site  # a child's site never changes here (only `myocit patient move`)
    row.registered = True
    row.birth_date = reg.profile.birth_date
    row.sex = reg.profile.sex.value
    row.updated_at = now
    session.flush()
    # The latest Patient resource says which identifiers the child holds.
    wanted = {(system or None, value) for system, value in reg.identifiers}
    held = {(i.system, i.value): i for i in session.scalars(
        select(PatientIdentifier).where(PatientIdentifier.patient_pk == row.pk))}
    for pair, identifier in held.items():
        if pair not in wanted:
            session.delete(identifier)
    session.flush()
    for system, value in sorted(wanted - held.keys(), key=lambda p: (p[0] or "", p[1])):
        session.add(PatientIdentifier(patient_pk=row.pk, system=system, value=value))
    session.flush()
    # Facts kept for this child before it was registered, from senders with authority over its site.
    in_scope = FactRow.scope.is_(None) | FactRow.scope.contains(f",{site},", autoescape=True)
    session.execute(
        update(FactRow)
        .where(FactRow.patient_pk.is_(None), FactRow.subject_key.in_(_subject_keys(reg)), in_scope)
        .values(patient_pk=row.pk)
    )
    return row.pk


def _judgement_refusal(item: Item, sender: Caller) -> Refusal | None:
    attests = any(isinstance(f, Attestation) for f in item.facts)
    other = item.registration is not None or any(not isinstance(f, (Attestation, ConsentRecord))
                                                 for f in item.facts)
    return attestation_refusal(sender.role, attests, other)


def _signed_by(facts: list[Fact], sender: Caller) -> list[Fact]:
    """An attestation's performer is the token's holder, whatever the body says (§13)."""
    return [replace(f, performer=sender.name) if isinstance(f, Attestation) else f for f in facts]


def store_message(
    session: Session,
    *,
    channel: str,
    content_type: str,
    body: str,
    sender: Caller,
    items: list[Item],
    now: datetime,
    control_id: str | None = None,
    atomic: bool = True,
    hl7_sender: tuple[str, str] | None = None,
    ack_code: str | None = None,
    defer_marking: bool = False,
) -> Stored:
    """Keep the message and its facts; mark every patient it touches for re-evaluation (or, with
    ``defer_marking``, only name them in ``Stored.enqueue`` for the caller to mark later).

    Every item is checked against the sender's authority first (contract §13). When ``atomic`` (a
    transaction, one resource, an HL7 message), a refusal raises ``Refused`` and the caller stores
    nothing; otherwise (a batch) the refused items are left out and named in ``Stored.refused``.
    A body already stored is not stored again: the result names the earlier message (``duplicate_of``).
    So is an HL7 v2 message whose MSH-10 (``control_id``) was already stored for the same sending system
    (``hl7_sender``: MSH-3 and MSH-4, first components) from the same authenticated sender (a token's or
    a registered sender's name, so that no sender can make another's message look like a repeat): the
    result carries the original's ``ack_code`` (contract §6), looked up by ``ix_messages_hl7_control``.
    """
    # Core statements on the session's connection, not ORM objects: this runs for every message a lab posts.
    conn = session.connection()
    if hl7_sender is not None and control_id:
        earlier = conn.execute(_FIND_CONTROL_ID, {"application": hl7_sender[0], "facility": hl7_sender[1],
                                                  "control_id": control_id, "sender": sender.name}).first()
        if earlier is not None:
            return Stored(earlier[0], earlier[0], ack_code=earlier[1])
    authority = sender.authority
    refused: dict[int, Refusal] = {}

    def refuse(index: int, refusal: Refusal) -> None:
        if atomic:
            raise Refused(refusal, f"item {index}")
        refused[index] = refusal

    for index, item in enumerate(items):
        refusal = _judgement_refusal(item, sender)
        if refusal is not None:
            refuse(index, refusal)
    sites: dict[int, str] = {}
    claimed: dict[tuple[str, str], str] = {}
    placed: dict[str, str] = {}
    for index, item in enumerate(items):
        reg = item.registration
        if reg is None or index in refused:
            continue
        site = _check_registration(conn, reg, authority)
        pairs = [(system, value) for system, value in reg.identifiers if system]
        if not isinstance(site, Refusal) and any(claimed.get(pair, reg.id) != reg.id for pair in pairs):
            site = Refusal.IDENTIFIER_HELD  # two Patients of this message claim one pair
        if not isinstance(site, Refusal) and placed.get(reg.id, site) != site:
            site = Refusal.SITE_FIXED  # one Patient twice in this message, at two sites
        if isinstance(site, Refusal):
            refuse(index, site)
            continue
        sites[index] = placed[reg.id] = site
        claimed.update((pair, reg.id) for pair in pairs)
    touched: set[int] = set()
    for index, site in sites.items():
        touched.add(_register(session, items[index].registration, site, now))
    matched: dict[tuple[Subject, ...], Match] = {}
    for index, item in enumerate(items):
        if not item.facts or not item.subjects or index in refused:
            continue
        if item.subjects not in matched:
            matched[item.subjects] = match_any([find(conn, s, authority) for s in item.subjects])
        if matched[item.subjects].refusal is not None:
            refuse(index, matched[item.subjects].refusal)
    kept = [(i, item) for i, item in enumerate(items) if i not in refused]
    sha256 = digest(body)
    message_pk = conn.execute(_INSERT_NEW_MESSAGE, {
        "received_at": now,
        "channel": channel,
        "content_type": content_type,
        "body": body,
        "sha256": sha256,
        "sender": sender.name,
        "control_id": control_id,
        "fact_count": sum(len(item.facts) for _, item in kept),
        "hl7_application": hl7_sender[0] if hl7_sender else None,
        "hl7_facility": hl7_sender[1] if hl7_sender else None,
        "ack_code": ack_code,
    }).scalar()
    if message_pk is None:
        earlier = conn.scalar(_FIND_DUPLICATE, {"sha256": sha256})
        original = conn.scalar(select(Message.ack_code).where(Message.pk == earlier)) if ack_code else None
        return Stored(earlier, earlier, refused=refused, ack_code=original or ack_code)
    rows = []
    for index, item in kept:
        if not item.facts or not item.subjects:
            continue
        patient_pk = matched[item.subjects].patient
        if patient_pk is not None:
            touched.add(patient_pk)
        revision = message_pk * REVISION_STRIDE + min(index, REVISION_STRIDE - 1)
        scope = None if patient_pk is not None else authority.scope
        rows.extend(_fact_rows(message_pk, patient_pk, item.subject.key, scope, _signed_by(item.facts, sender),
                               revision))
    if rows:
        _insert_facts(conn, rows)
    if defer_marking:
        # An initial load marks its children once, when everything is stored (``service.imports``).
        return Stored(message_pk, None, sorted(touched), refused, ack_code)
    return Stored(message_pk, None, mark_pending(session, sorted(touched), now) if touched else [], refused,
                  ack_code)


def _fact_rows(message_pk: int, patient_pk: int | None, subject_key: str, scope: str | None, facts, revision: int):
    for fact in facts:
        fact = replace(fact, revision=revision)
        yield {"message_pk": message_pk, "patient_pk": patient_pk, "subject_key": subject_key, "scope": scope,
               "kind": type(fact).__name__, "source": fact.source, "revision": revision, "effective": fact.on,
               "payload": codec.dump(fact)}


def _comparable(kind: str, payload: dict) -> tuple:
    return kind, tuple(sorted((k, repr(v)) for k, v in payload.items() if k != "revision"))


def refile(session: Session, message_pk: int, items: list[Item], sender_name: str) -> tuple[bool, list[int], int]:
    """Derive a stored message's facts again from ``items`` (its body read by today's mapping): when
    they differ from the stored ones, add them as a newer revision of the same message, filed where its
    facts were filed (the same children, the same scope: authority is not judged again). (changed,
    children touched, facts left out because they name a subject the message's facts never named).

    Idempotent: reprocessing again finds the same facts and adds nothing. The earlier facts stay, so
    screenings that used them can still be replayed."""
    old = list(session.execute(select(FactRow.kind, FactRow.payload, FactRow.subject_key, FactRow.patient_pk,
                                      FactRow.scope, FactRow.revision, FactRow.pk)
                               .where(FactRow.message_pk == message_pk).order_by(FactRow.pk)))
    latest = max((row.revision for row in old), default=message_pk * REVISION_STRIDE - 1)
    filed = {row.subject_key: (row.patient_pk, row.scope) for row in old}
    sender = Caller(sender_name or "reprocess", "lab")
    wanted, left_out = [], 0
    for item in items:
        if not item.facts or not item.subjects:
            continue
        if item.subject.key not in filed:
            left_out += len(item.facts)
            continue
        wanted.append((item.subject.key, _signed_by(item.facts, sender)))
    # What stands now for each (kind, source) of the message, against what today's mapping gives.
    before = {}
    for row in old:
        before[(row.kind, row.payload.get("source"))] = _comparable(row.kind, row.payload)
    after = {}
    for _, facts in wanted:
        for fact in facts:
            after[(type(fact).__name__, fact.source)] = _comparable(type(fact).__name__, codec.dump(fact))
    if before == after:
        return False, [], left_out
    base = latest + 1
    if base + len(wanted) >= (message_pk + 1) * REVISION_STRIDE:
        raise ValueError(f"message {message_pk} has been reprocessed too many times")
    rows = [row for index, (key, facts) in enumerate(wanted)
            for row in _fact_rows(message_pk, filed[key][0], key, filed[key][1], facts, base + index)]
    if rows:
        _insert_facts(session.connection(), rows)
    return True, sorted({filed[key][0] for key, _ in wanted if filed[key][0] is not None}), left_out


def mark_pending(session: Session, patient_pks: list[int], now: datetime) -> list[int]:
    """Mark patients for re-evaluation; return those that need a task sent.

    A patient already pending with a task sent is covered by that task: the evaluation reads
    ``pending_seq`` under the row lock this update holds until commit, so it will see these facts too.
    Sending nothing more is what makes a burst of messages for one child cost one evaluation. Its
    ``enqueued_at`` is left as it was, so a task that was lost still looks stale to the sweeper.
    """
    rows = session.connection().execute(_MARK_PENDING, {"pks": patient_pks, "now": now}).all()
    return sorted(pk for pk, needs_task in rows if needs_task)


__all__ = ["Item", "Refused", "Registration", "Stored", "Subject", "find", "store_message"]
