"""Writes of the trial's records (contract §8, §9): outcomes after screening and signed confirmations,
and the one lookup evaluation needs (does a signed confirmation of this child still stand?).

Confirmations are only ever inserted: there is no update or delete of them here or anywhere, and the
migration adds a trigger that refuses both (PostgreSQL and SQLite)."""

from __future__ import annotations

import hmac
from datetime import date, datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from store import log_rows
from store.models import ApiToken, Confirmation, ScreeningRow, ScreeningOutcome

OUTCOMES = ("approached", "declined", "enrolled", "not-approached")


def add_outcome(session: Session, patient_pk: int, outcome: str, reason: str | None, recorded_by: str,
                now: datetime, today: date) -> ScreeningOutcome:
    row = ScreeningOutcome(patient_pk=patient_pk, outcome=outcome, reason=reason, recorded_by=recorded_by[:120],
                           recorded_at=now, recorded_on=today)
    session.add(row)
    session.flush()
    log_rows.after_outcome(session, patient_pk, outcome, today)
    return row


def token_matches(session: Session, token_pk: int | None, digest: str) -> bool:
    """Whether ``digest`` is the hash of the live token ``token_pk`` (the signer's own, re-entered)."""
    if token_pk is None:
        return False
    stored = session.scalar(select(ApiToken.token_hash).where(ApiToken.pk == token_pk,
                                                             ApiToken.revoked_at.is_(None)))
    return stored is not None and hmac.compare_digest(stored, digest)


def latest_screening_row(session: Session, patient_pk: int):
    """(pk, as_of, status, protocol_version, result, reasons) of the child's latest stored screening, or None."""
    return session.execute(
        select(ScreeningRow.pk, ScreeningRow.as_of, ScreeningRow.status, ScreeningRow.protocol_version,
               ScreeningRow.result, ScreeningRow.reasons)
        .where(ScreeningRow.patient_pk == patient_pk).order_by(ScreeningRow.pk.desc()).limit(1)
    ).first()


def add_confirmation(session: Session, **values) -> Confirmation:
    row = Confirmation(**values)
    session.add(row)
    session.flush()
    log_rows.after_confirmation(session, row.patient_pk, row.signed_at)
    return row


_OVERTURNED_SINCE = exists().where(ScreeningRow.patient_pk == Confirmation.patient_pk,
                                   ScreeningRow.pk > Confirmation.screening_pk,
                                   ScreeningRow.status != "eligible")


def has_standing_confirmation(session: Session, patient_pk: int) -> bool:
    """A confirmation of the child that every screening stored since has left eligible (§9 ``valid``)."""
    found = session.scalar(select(Confirmation.pk).where(and_(Confirmation.patient_pk == patient_pk,
                                                              ~_OVERTURNED_SINCE)).limit(1))
    return found is not None
