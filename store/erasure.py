"""Erasing a child (contract §17), in the caller's one transaction: a crash leaves it whole or erased.

``ERASED_PER_CHILD`` is the one list of the rows that hold a child's data, in the order they are
deleted (children of a row before the row). A table added later that refers to a patient, its alerts
or its screenings gets one line here; ``SCRUBBED_PER_CHILD`` lists the rows that keep a child's id
inside a document (JSON) and are rewritten without it. Messages are handled apart: a message that
also carried other children keeps their parts (``ingest.redaction``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from domain.criteria import ORDER
from domain.privacy import Keyring, child_names, plain_values
from ingest.redaction import PLACEHOLDER, redact
from store.screening import expand
from store.models import (
    Alert,
    CdsCard,
    CdsFeedback,
    Confirmation,
    Delivery,
    ErasedChild,
    ErasureUnderWay,
    Fact,
    FhirEvent,
    LogRow,
    Message,
    OidcLogin,
    Outbox,
    Patient,
    PatientIdentifier,
    ScreeningOutcome,
    ScreeningRow,
    ShadowChunk,
    ShadowReport,
    TombstoneKey,
)


def _alerts(pk: int):
    return select(Alert.pk).where(Alert.patient_pk == pk).scalar_subquery()


def _cards(pk: int):
    return select(CdsCard.pk).where(CdsCard.patient_pk == pk).scalar_subquery()


ERASED_PER_CHILD: tuple[tuple[type, Callable[[int], object]], ...] = (
    (Delivery, lambda pk: Delivery.alert_pk.in_(_alerts(pk))),
    (FhirEvent, lambda pk: FhirEvent.alert_pk.in_(_alerts(pk))),
    (CdsFeedback, lambda pk: CdsFeedback.card_pk.in_(_cards(pk))),
    (CdsCard, lambda pk: CdsCard.patient_pk == pk),
    (Outbox, lambda pk: (Outbox.topic == "alert.created") & Outbox.ref.in_(_alerts(pk))),
    (Alert, lambda pk: Alert.patient_pk == pk),
    (Confirmation, lambda pk: Confirmation.patient_pk == pk),
    (LogRow, lambda pk: LogRow.patient_pk == pk),
    (ScreeningOutcome, lambda pk: ScreeningOutcome.patient_pk == pk),
    (ScreeningRow, lambda pk: ScreeningRow.patient_pk == pk),
    (Fact, lambda pk: Fact.patient_pk == pk),
    (PatientIdentifier, lambda pk: PatientIdentifier.patient_pk == pk),
)
"""(model, which of its rows are the child's, given the patient's pk): deleted in this order."""


def _without_patient(items, patient_id: str):
    return [i for i in items if not (isinstance(i, dict) and i.get("patient") == patient_id)]


def _scrub_shadow_documents(session: Session, patient_id: str, column) -> None:
    """Rewrite each shadow report (or chunk's result) naming the child without its lines."""
    model = column.class_
    for pk, report in session.execute(select(model.pk, column)).all():
        if not isinstance(report, dict):
            continue
        changes = _without_patient(report.get("changes") or [], patient_id)
        failed = _without_patient(report.get("failed") or [], patient_id)
        if len(changes) != len(report.get("changes") or []) or len(failed) != len(report.get("failed") or []):
            session.execute(update(model).where(model.pk == pk)
                            .values({column.key: {**report, "changes": changes, "failed": failed}}))


def _scrub_shadow_reports(session: Session, patient_id: str) -> None:
    _scrub_shadow_documents(session, patient_id, ShadowReport.report)


def _scrub_shadow_chunks(session: Session, patient_id: str) -> None:
    _scrub_shadow_documents(session, patient_id, ShadowChunk.result)


def _scrub_signings(session: Session, patient_id: str) -> None:
    rows = session.execute(select(OidcLogin.pk, OidcLogin.signing).where(OidcLogin.signing.is_not(None))).all()
    gone = [pk for pk, signing in rows if isinstance(signing, dict) and patient_id in map(str, signing.values())]
    if gone:
        session.execute(delete(OidcLogin).where(OidcLogin.pk.in_(gone)))


SCRUBBED_PER_CHILD: tuple[Callable[[Session, str], None], ...] = (_scrub_shadow_reports, _scrub_shadow_chunks,
                                                                  _scrub_signings)
"""Rows keeping a child's Patient id inside a document, rewritten without it."""


@dataclass(frozen=True)
class Erased:
    screening_id: str
    site: str | None
    tables: frozenset[str]


def _log_row(session: Session, pk: int) -> dict:
    """What the de-identified screening log row keeps: month of first screening, last status, failing
    criteria, outcome."""
    first = session.execute(select(ScreeningRow.as_of).where(ScreeningRow.patient_pk == pk)
                            .order_by(ScreeningRow.pk).limit(1)).scalar()
    last = session.execute(select(ScreeningRow.status, ScreeningRow.verdicts).where(ScreeningRow.patient_pk == pk)
                           .order_by(ScreeningRow.pk.desc()).limit(1)).first()
    outcome = session.execute(select(ScreeningOutcome.outcome).where(ScreeningOutcome.patient_pk == pk)
                              .order_by(ScreeningOutcome.pk.desc()).limit(1)).scalar()
    failing = None
    if last is not None and last.verdicts:
        failing = ";".join(cid for cid, verdict in expand(last.verdicts, list(ORDER)) if verdict == "fail") or None
    return {"first_screened_month": first.strftime("%Y-%m") if first else None,
            "last_status": last.status if last else None, "failing": failing, "outcome": outcome}


def _messages(session: Session, row: Patient, values: set[str], names: set[str]) -> set[str]:
    """Delete the messages that were only the child's, cut the child's part out of the others."""
    keys = [n for n in names if n.startswith(("id:", "ident:"))] + [f"ident:|{v}" for v in values]
    by_facts = select(Fact.message_pk).where(or_(Fact.patient_pk == row.pk,
                                                 Fact.patient_pk.is_(None) & Fact.subject_key.in_(keys)))
    mine = set(session.scalars(by_facts))
    candidates = set(mine)
    for value in values:
        candidates.update(session.scalars(select(Message.pk).where(Message.body.contains(value, autoescape=True))))
    session.execute(delete(Fact).where(Fact.patient_pk.is_(None), Fact.subject_key.in_(keys)))
    touched = set()
    for pk in sorted(candidates):
        others = session.scalar(select(func.count()).select_from(Fact).where(
            Fact.message_pk == pk, or_(Fact.patient_pk.is_(None), Fact.patient_pk != row.pk)))
        body = session.scalar(select(Message.body).where(Message.pk == pk))
        kept = redact(body, values)
        if not others and (pk in mine or kept is None):
            session.execute(delete(Fact).where(Fact.message_pk == pk))
            session.execute(delete(Message).where(Message.pk == pk))
        elif kept != body:
            session.execute(update(Message).where(Message.pk == pk).values(body=kept or PLACEHOLDER))
        else:
            continue
        touched.add("messages")
    return touched


def erase_child(session: Session, row: Patient, *, reason: str, by: str, now: datetime, today: date,
                keyring: Keyring | None, purge_pk: int | None = None) -> Erased:
    """Erase everything identifiable about the child of ``row`` and leave its de-identified log row (and,
    for an objection, with ``keyring``, the tombstone's keyed hashes of every name it had)."""
    # The child's row lock first: an intake naming it waits, then finds it gone and its tombstone.
    session.execute(select(Patient.pk).where(Patient.pk == row.pk).with_for_update())
    identifiers = [(s, v) for s, v in session.execute(
        select(PatientIdentifier.system, PatientIdentifier.value).where(PatientIdentifier.patient_pk == row.pk))]
    names = child_names(row.id, identifiers, row.site)
    values = plain_values(names)
    screening_id = row.screening_id or f"s-row{row.pk}"
    logged = _log_row(session, row.pk) if reason != "objection" else {}
    session.execute(insert(ErasureUnderWay).values(patient_pk=row.pk))
    tables = _messages(session, row, values, names)
    for model, which in ERASED_PER_CHILD:
        if session.execute(delete(model).where(which(row.pk))).rowcount:
            tables.add(model.__tablename__)
    for scrub in SCRUBBED_PER_CHILD:
        scrub(session, row.id)
    session.execute(delete(Patient).where(Patient.pk == row.pk))
    session.execute(delete(ErasureUnderWay).where(ErasureUnderWay.patient_pk == row.pk))
    erased_pk = session.scalar(insert(ErasedChild).values(
        screening_id=screening_id, site=row.site, reason=reason, erased_at=now, erased_on=today,
        recorded_by=by[:120], purge_pk=purge_pk, **logged).returning(ErasedChild.pk))
    if keyring is not None:
        sealed = {keyring.seal(name) for name in names}
        session.execute(insert(TombstoneKey), [{"erased_pk": erased_pk, "chain": chain, "digest": digest}
                                               for chain, digest in sorted(sealed)])
    if row in session:
        session.expunge(row)
    return Erased(screening_id, row.site, frozenset(tables | {"patients", "facts"}))


__all__ = ["ERASED_PER_CHILD", "PLACEHOLDER", "SCRUBBED_PER_CHILD", "Erased", "erase_child"]
