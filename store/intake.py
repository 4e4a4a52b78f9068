"""Storing an inbound message and what it says, in one transaction.

A message is kept verbatim; each fact it carries is filed under its patient, or under how the
message named the patient when that patient is not registered yet (linked when the Patient arrives).
Every patient touched gets ``pending_seq`` bumped: the durable mark that it needs re-evaluation,
which the sweeper honours even if the task sent after commit never reaches a worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import contextmanager
from functools import cache
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import JSON, any_, bindparam, case, cast, column, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.facts import Attestation, Fact
from domain.identity import Caller, Known, Plan, Refusal, Refused, judge
from ingest.items import Item, Registration, Subject
from store import codec, tombstones
from ingest.redaction import PLACEHOLDER, redact
from domain.privacy import claim_names, plain_values
from store.models import Fact as FactRow
from store.models import AuditEntry, Message, Patient, PatientIdentifier, SiteIdentifierSystem, new_screening_id


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
    dropped: frozenset[int] = frozenset()
    """Items naming an objected child (contract §17): acknowledged, never stored. When every item is
    dropped, nothing of the message is kept (``message_pk`` None)."""
    audited: bool = False
    """The audit row ``store_message`` was given is written (with the facts, in the same statement)."""


REVISION_STRIDE = 1 << 24
"""A fact's revision is its message's pk times this, plus its item's place in the message: versions of
a resource are ordered as myocit stored them, never by anything the sender controls (§13)."""
CONTROL_KEY_SEPARATOR = "\x1f"
"""Between the parts of ``Message.control_key`` (migration 0009 builds the same keys)."""
RACE_ATTEMPTS = 5
"""Judgements of one message at most: each lost race means a competitor committed, so the next
judgement sees it; a registration still losing after these is refused as a conflict (409)."""
LOOKUP_CHUNK = 2000
"""Names looked up per statement (an initial load's message can name thousands of children)."""


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def control_key(sender: str, hl7_sender: tuple[str, str] | None, control_id: str | None) -> str | None:
    """What a repeat of an HL7 v2 message is matched on: the authenticated sender (so that no sender can
    make another's message look like a repeat), MSH-3, MSH-4 and MSH-10."""
    if hl7_sender is None or not control_id:
        return None
    return CONTROL_KEY_SEPARATOR.join((sender, hl7_sender[0], hl7_sender[1], control_id))


def _insert_new(conn, table):
    """INSERT ... ON CONFLICT DO NOTHING: a row another transaction holds the key of is not inserted
    (PostgreSQL waits for that transaction first), and the statement says so by returning nothing."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


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

_FILED = func.json_to_recordset(cast(bindparam("facts", type_=JSON), JSON)).table_valued(
    *(column(name, FactRow.__table__.c[name].type) for name in _FACT_COLUMNS)).render_derived("filed", with_types=True)
_AUDIT_COLUMNS = ("at", "actor", "action", "target", "role", "token_pk", "screening_id", "outcome")
_FILE_MARK_AUDIT = (
    _MARK_PENDING
    .add_cte(insert(FactRow).from_select(_FACT_COLUMNS, select(*_FILED.c)).cte("filed_facts"))
    .add_cte(insert(AuditEntry).values({name: bindparam(f"audit_{name}", type_=AuditEntry.__table__.c[name].type)
                                        for name in _AUDIT_COLUMNS}).cte("audited"))
)
"""PostgreSQL: a message's facts filed, its children marked pending (``_MARK_PENDING``) and its audit row
written in one statement (data-modifying CTEs), so one round trip where there were four (COPY takes two)."""


def _file_mark_audit(conn, rows: list[dict], patient_pks: list[int], now: datetime, act: dict) -> list[int]:
    """``_FILE_MARK_AUDIT``: the patients that need a task sent, as ``mark_pending``. The facts travel as
    one JSON parameter (a date as ISO text), the statement's text the same for every message."""
    facts = [{**row, "effective": row["effective"].isoformat()} for row in rows]
    params = {"facts": facts, "pks": patient_pks, "now": now, **{f"audit_{k}": act[k] for k in _AUDIT_COLUMNS}}
    return sorted(pk for pk, needs_task in conn.execute(_FILE_MARK_AUDIT, params) if needs_task)


def _insert_facts(conn, rows: list[dict]) -> None:
    """On PostgreSQL (psycopg), COPY: a bundle's facts in one round trip, at a fraction of the CPU
    of a multi-row INSERT (whose long text psycopg re-parses on every call). Elsewhere, executemany."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        conn.execute(_INSERT_FACTS, rows)
        return
    driver = conn.connection.driver_connection
    with _driver_errors(conn, _COPY_FACTS, driver):
        with driver.cursor() as cursor, cursor.copy(_COPY_FACTS) as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c == "payload" else row[c] for c in _FACT_COLUMNS])


@contextmanager
def _driver_errors(conn, statement: str, driver):
    """Statements sent around SQLAlchemy (COPY, a pipeline): their errors given SQLAlchemy's types (a lost
    server becomes an OperationalError, answered 503), a dead connection dropped as SQLAlchemy would."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, driver, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from exc


def _subject_keys(reg: Registration) -> list[str]:
    keys = [f"id:{reg.id}", f"ident:|{reg.id}"]
    for system, value in reg.identifiers:
        keys.append(f"ident:|{value}")
        if system:
            keys.append(f"ident:{system}|{value}")
    return keys


# --- Lookup: every patient a message's names could reach, locked before anything is decided ---------

def _names(items: list[Item]) -> tuple[set[str], set[str], set[str]]:
    """The Patient ids, identifier values and identifier systems a message names or registers."""
    ids, values, systems = set(), set(), set()
    for item in items:
        for subject in item.subjects:
            if subject.kind == "id" or not subject.system:
                ids.add(subject.value)
            if subject.kind != "id":
                values.add(subject.value)
        if item.registration is not None:
            ids.add(item.registration.id)
            values.update(value for _, value in item.registration.identifiers)
            systems.update(system for system, _ in item.registration.pairs)
    return ids, values, systems


def _chunks(names: set[str]) -> list[list[str]]:
    ordered = sorted(names)
    return [ordered[i:i + LOOKUP_CHUNK] for i in range(0, len(ordered), LOOKUP_CHUNK)] or [[]]


def _reachable(conn, ids: set[str], values: set[str], lock: bool) -> dict[int, tuple[str, str | None]]:
    """pk -> (Patient id, site) of the patients with one of ``ids`` or holding one of ``values``, row-locked
    in pk order (so two intakes lock shared children in the same order) when ``lock``."""
    found: dict[int, tuple[str, str | None]] = {}
    for id_chunk in _chunks(ids):
        for value_chunk in _chunks(values):
            holders = select(PatientIdentifier.patient_pk).where(PatientIdentifier.value.in_(value_chunk))
            query = (select(Patient.pk, Patient.id, Patient.site)
                     .where(or_(Patient.id.in_(id_chunk), Patient.pk.in_(holders))).order_by(Patient.pk))
            found.update((pk, (pid, site)) for pk, pid, site in
                         conn.execute(query.with_for_update(of=Patient) if lock else query))
    return found


def lookup(conn, items: list[Item], *, lock: bool) -> tuple[Known, dict[str, int]]:
    """What ``domain.identity.judge`` needs for ``items``, and the row of each Patient id found."""
    ids, values, systems = _names(items)
    if not ids and not values:
        return Known(), {}
    reachable = _reachable(conn, ids, values, lock)
    held: dict[str, set] = {pid: set() for pid, _ in reachable.values()}
    # A message naming its children by id only (most lab results) needs no identifiers.
    pks = sorted(reachable) if values else []
    for start in range(0, len(pks), LOOKUP_CHUNK):
        rows = conn.execute(select(PatientIdentifier.patient_pk, PatientIdentifier.system, PatientIdentifier.value)
                            .where(PatientIdentifier.patient_pk.in_(pks[start:start + LOOKUP_CHUNK])))
        for pk, system, value in rows:
            held[reachable[pk][0]].add((system, value))
    bound: dict[str, set[str]] = {}
    if systems:
        for system, site in conn.execute(select(SiteIdentifierSystem.system, SiteIdentifierSystem.site)
                                         .where(SiteIdentifierSystem.system.in_(sorted(systems)))):
            bound.setdefault(system, set()).add(site)
    known = Known(sites={pid: site for pid, site in reachable.values()},
                  identifiers={pid: frozenset(pairs) for pid, pairs in held.items()},
                  system_sites={system: frozenset(sites) for system, sites in bound.items()})
    return known, {pid: pk for pk, (pid, _) in reachable.items()}


# --- Write: what the judgement decided ---------------------------------------------------------------

class _LostRace(Exception):
    """Another intake committed a Patient id or identifier this one was about to take."""


def _patient_row(conn, reg: Registration, site: str, pks: dict[str, int], now: datetime) -> int:
    """The row of the Patient being registered: the one locked at lookup, or a new one; a child's site
    never changes here (only `myocit patient move`)."""
    values = {"registered": True, "birth_date": reg.profile.birth_date, "sex": reg.profile.sex.value,
              "updated_at": now}
    pk = pks.get(reg.id)
    if pk is not None:
        conn.execute(update(Patient).where(Patient.pk == pk).values(site=func.coalesce(Patient.site, site), **values))
        return pk
    pk = conn.scalar(_insert_new(conn, Patient).values(id=reg.id, site=site, pending_seq=0, evaluated_seq=0,
                                                       screening_id=new_screening_id(), **values)
                     .returning(Patient.pk))
    if pk is None:
        raise _LostRace
    pks[reg.id] = pk
    return pk


def _hold_identifiers(conn, pk: int, reg: Registration) -> None:
    """The latest Patient resource says which identifiers the child holds."""
    wanted = {(system or None, value) for system, value in reg.identifiers}
    held = {(system, value): row for row, system, value in conn.execute(
        select(PatientIdentifier.pk, PatientIdentifier.system, PatientIdentifier.value)
        .where(PatientIdentifier.patient_pk == pk))}
    dropped = [row for pair, row in held.items() if pair not in wanted]
    if dropped:
        conn.execute(delete(PatientIdentifier).where(PatientIdentifier.pk.in_(dropped)))
    for system, value in sorted(wanted - held.keys(), key=lambda p: (p[0] or "", p[1])):
        inserted = conn.scalar(_insert_new(conn, PatientIdentifier)
                               .values(patient_pk=pk, system=system, value=value).returning(PatientIdentifier.pk))
        if inserted is None:
            raise _LostRace


def _register(conn, reg: Registration, site: str, pks: dict[str, int], now: datetime) -> int:
    pk = _patient_row(conn, reg, site, pks, now)
    _hold_identifiers(conn, pk, reg)
    # Facts kept for this child before it was registered, from senders with authority over its site.
    in_scope = FactRow.scope.is_(None) | FactRow.scope.contains(f",{site},", autoescape=True)
    conn.execute(update(FactRow)
                 .where(FactRow.patient_pk.is_(None), FactRow.subject_key.in_(_subject_keys(reg)), in_scope)
                 .values(patient_pk=pk))
    return pk


def _judged(session: Session, items: list[Item], sender: Caller, atomic: bool, now: datetime,
            first: tuple[Known, dict[str, int], list[str]] | None = None) -> tuple[Plan, dict[str, int]]:
    """Lock what the message names, judge it, register its Patients; again if another intake took a
    new Patient id or identifier first. Raises ``Refused`` for an atomic message with a refusal.
    ``first``: the first lookup and the tombstones' chains, already read with the claim."""
    for _ in range(RACE_ATTEMPTS):
        known, pks, written = first or (*lookup(session.connection(), items, lock=True), None)
        first = None
        known = tombstones.with_objected(session, known, items, sender.authority, written)
        plan = judge(items, known, sender.authority, sender.role)
        if atomic and plan.refused:
            index, refusal = plan.first_refusal
            raise Refused(refusal, f"item {index}")
        if not plan.registrations:
            return plan, pks
        savepoint = session.begin_nested()
        try:
            for index, site in plan.registrations.items():
                _register(session.connection(), items[index].registration, site, pks, now)
        except _LostRace:
            savepoint.rollback()
            continue
        savepoint.commit()
        return plan, pks
    raise Refused(Refusal.IDENTIFIER_HELD, "registration")


# --- The message itself: claimed first, so the database refuses a second copy --------------------------

def _claim(conn, *, channel: str, content_type: str, body: str, sender: Caller, items: list[Item], now: datetime,
           control_id: str | None, hl7_sender: tuple[str, str] | None, ack_code: str | None
           ) -> tuple[int | None, str | None, tuple[Known, dict[str, int], list[str]] | None]:
    """Insert the message, unless its body, or its HL7 sender and MSH-10, is already stored (or being
    stored by a transaction that then commits): its pk, or None for a repeat; and its ``control_key``."""
    sha256 = digest(body)
    key = control_key(sender.name, hl7_sender, control_id)
    values = {"received_at": now, "channel": channel, "content_type": content_type, "body": body, "sha256": sha256,
              "body_key": sha256, "sender": sender.name, "control_id": control_id, "control_key": key,
              "fact_count": sum(len(item.facts) for item in items),
              "hl7_application": hl7_sender[0] if hl7_sender else None,
              "hl7_facility": hl7_sender[1] if hl7_sender else None, "ack_code": ack_code}
    ids, names_values, systems = _names(items)
    if conn.dialect.driver != "psycopg" or names_values or systems or not ids:
        return conn.scalar(_insert_new(conn, Message).values(**values).returning(Message.pk)), key, None
    pk, first = _claim_pipelined(conn, values, ids)
    return pk, key, first


_CLAIM = postgresql.insert(Message).values(
    {name: bindparam(name, type_=Message.__table__.c[name].type) for name in
     ("received_at", "channel", "content_type", "body", "sha256", "body_key", "sender", "control_id", "control_key",
      "fact_count", "hl7_application", "hl7_facility", "ack_code")}).on_conflict_do_nothing().returning(Message.pk)
_BY_IDS = (select(Patient.pk, Patient.id, Patient.site)
           .where(Patient.id == any_(bindparam("ids", type_=postgresql.ARRAY(Patient.__table__.c.id.type))))
           .order_by(Patient.pk).with_for_update(of=Patient))


@cache
def _pipelined() -> tuple[str, str, str]:
    """The SQL of the claim, the lookup by ids and the tombstones' chains, compiled once for psycopg."""
    dialect = psycopg_dialect.dialect()
    return tuple(str(statement.compile(dialect=dialect)) for statement in (_CLAIM, _BY_IDS, tombstones.CHAINS))


def _claim_pipelined(conn, values: dict, ids: set[str]) -> tuple[int | None, tuple[Known, dict[str, int], list[str]]]:
    """psycopg: BEGIN, the claim, the lookup of a message naming its children by id only (most lab results)
    and the tombstones' chains sent at once (pipeline mode), one round trip. The server runs them in that
    order, each its own statement with its own snapshot, as if sent one by one: the row locks are taken
    after the claim, the chains read once they are held. (A repeat's lookup is read for nothing.)"""
    claim, by_ids, chains = _pipelined()
    driver = conn.connection.driver_connection
    with _driver_errors(conn, claim, driver):
        with driver.pipeline():
            cursors = [driver.execute(claim, values), driver.execute(by_ids, {"ids": sorted(ids)}),
                       driver.execute(chains)]
        claimed, found, written = (cursor.fetchall() for cursor in cursors)
    sites = {pid: site for _, pid, site in found}
    known = Known(sites=sites, identifiers={pid: frozenset() for pid in sites}, system_sites={})
    return (claimed[0][0] if claimed else None), (known, {pid: pk for pk, pid, _ in found},
                                                  [chain for (chain,) in written])


def _original(conn, body: str, key: str | None) -> tuple[int, str | None]:
    """The stored message a repeat repeats: its MSH-10 first (the original's code is answered again),
    else its body."""
    row = conn.execute(select(Message.pk, Message.ack_code).where(Message.control_key == key)).first() if key else None
    return tuple(row or conn.execute(select(Message.pk, Message.ack_code)
                                     .where(Message.body_key == digest(body))).one())


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
    audit: Callable[[int, bool], dict] | None = None,
) -> Stored:
    """Keep the message and its facts; mark every patient it touches for re-evaluation (or, with
    ``defer_marking``, only name them in ``Stored.enqueue`` for the caller to mark later).

    ``audit(message_pk, dropped)`` gives the values of the message's audit row (``store.audit.row``):
    on PostgreSQL it is written with the facts, in one statement, and ``Stored.audited`` says so; a
    repeat, a message refused or whose every item is dropped, and the SQLite path leave it to the caller.

    The message is claimed first: a body already stored, or an HL7 v2 message whose MSH-10
    (``control_id``) was already stored for the same sending system (``hl7_sender``: MSH-3 and MSH-4)
    from the same authenticated sender, is not stored again: the result names the earlier message
    (``duplicate_of``) and carries its ``ack_code`` (contract §6). Unique keys make this hold for copies
    arriving at the same instant. Then every item is judged at once (``domain.identity.judge``) on what
    the store found, under the row locks of the children it names (contract §13). When ``atomic`` (a
    transaction, one resource, an HL7 message), a refusal raises ``Refused`` and the caller stores
    nothing; otherwise (a batch) the refused items are left out and named in ``Stored.refused``.
    """
    # Core statements on the session's connection, not ORM objects: this runs for every message a lab posts.
    conn = session.connection()
    message_pk, key, first = _claim(conn, channel=channel, content_type=content_type, body=body, sender=sender,
                                    items=items, now=now, control_id=control_id, hl7_sender=hl7_sender,
                                    ack_code=ack_code)
    if message_pk is None:
        return _repeat(conn, items, sender, body, key, atomic, ack_code)
    plan, pks = _judged(session, items, sender, atomic, now, first)
    conn = session.connection()
    if plan.dropped and not _drop_objected(conn, message_pk, body, items, plan, sender):
        return Stored(None, None, refused=plan.refused, ack_code=ack_code, dropped=plan.dropped)
    if plan.refused or plan.dropped:
        conn.execute(update(Message).where(Message.pk == message_pk).values(
            fact_count=sum(len(item.facts) for i, item in enumerate(items)
                           if i not in plan.refused and i not in plan.dropped)))
    rows, touched = _filed(message_pk, items, plan, pks, sender)
    if audit is not None and not defer_marking and conn.dialect.name == "postgresql":
        enqueue = _file_mark_audit(conn, rows, sorted(touched), now, audit(message_pk, bool(plan.dropped)))
        return Stored(message_pk, None, enqueue, plan.refused, ack_code, plan.dropped, audited=True)
    if rows:
        _insert_facts(conn, rows)
    if defer_marking:
        # An initial load marks its children once, when everything is stored (``service.imports``).
        return Stored(message_pk, None, sorted(touched), plan.refused, ack_code)
    enqueue = mark_pending(session, sorted(touched), now) if touched else []
    return Stored(message_pk, None, enqueue, plan.refused, ack_code, plan.dropped)


def _filed(message_pk: int, items: list[Item], plan: Plan, pks: dict[str, int], sender: Caller
           ) -> tuple[list[dict], set[int]]:
    """The fact rows of the plan, and the patients it touches (registered, or given facts)."""
    touched = {pks[items[index].registration.id] for index in plan.registrations}
    rows = []
    for index, patient in plan.patients.items():
        item = items[index]
        patient_pk = pks[patient] if patient is not None else None
        if patient_pk is not None:
            touched.add(patient_pk)
        revision = message_pk * REVISION_STRIDE + min(index, REVISION_STRIDE - 1)
        scope = None if patient_pk is not None else sender.authority.scope
        rows.extend(_fact_rows(message_pk, patient_pk, item.subject.key, scope, _signed_by(item.facts, sender),
                               revision))
    return rows, touched


def _drop_objected(conn, message_pk: int, body: str, items: list[Item], plan: Plan, sender: Caller) -> bool:
    """Leave out of the stored message the parts naming an objected child; if nothing else of it would
    be stored, remove the message itself (False). Nothing of the objected child is kept."""
    rest = [i for i, item in enumerate(items) if i not in plan.dropped and (item.facts or item.registration)]
    if not rest:
        conn.execute(delete(Message).where(Message.pk == message_pk))
        return False
    sites = sender.authority.sites or frozenset()
    names = set()
    for index in plan.dropped:
        names |= claim_names(items[index].subjects, items[index].registration, sites)
    kept = redact(body, plain_values(names))
    if kept != body:
        conn.execute(update(Message).where(Message.pk == message_pk).values(body=kept or PLACEHOLDER))
    return True


def screening_id_of(session: Session, patient_id: str) -> str | None:
    return session.scalar(select(Patient.screening_id).where(Patient.id == patient_id))


def _repeat(conn, items: list[Item], sender: Caller, body: str, key: str | None, atomic: bool,
            ack_code: str | None) -> Stored:
    """A message already stored: nothing more is written. A batch still says which of its entries would
    be refused, as it did the first time."""
    earlier, original_code = _original(conn, body, key)
    refused = {}
    if not atomic:
        known, _ = lookup(conn, items, lock=False)
        refused = judge(items, known, sender.authority, sender.role).refused
    return Stored(earlier, earlier, refused=refused, ack_code=(original_code if ack_code else None) or ack_code)


def _signed_by(facts: list[Fact], sender: Caller) -> list[Fact]:
    """An attestation's performer is the token's holder, whatever the body says (§13)."""
    return [replace(f, performer=sender.name) if isinstance(f, Attestation) else f for f in facts]


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


__all__ = ["Item", "Refused", "Registration", "Stored", "Subject", "lookup", "store_message"]
