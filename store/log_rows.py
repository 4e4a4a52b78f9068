"""The screening log's maintained rows (contract §8): one ``log_rows`` line per child, written in the
transaction that stores the child's screening (``store.screening.add_screening``), outcome
(``store.screening_log.add_outcome``) or confirmation (``store.screening_log.add_confirmation``), so
the log and the funnel read one indexed row per child and never the screenings themselves.

Each write is "make sure the row exists, then update it in one statement": the update's expressions
read the row's values as they were, so a screening keeps ``status_since`` while the status holds and
clears ``confirmed_at`` when it is not eligible (a later non-eligible screening overturns every
confirmation, contract §9: a confirmation always signs the child's latest screening, under its row
lock). Evaluations of one child are serialised by the patient row lock; an outcome racing a screening
updates other columns of the same row, serialised by the row's own lock.

``recomputed`` gives the same rows from the screenings, outcomes and confirmations themselves: what the
tests compare the maintained rows with."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import bindparam, case, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.criteria import ORDER
from store.models import Confirmation, LogRow, ScreeningOutcome, ScreeningRow

FIELDS = ("first_screened", "last_screening_pk", "status", "status_since", "failing", "missing", "review",
          "eligible_from", "eligible_until", "protocol_version", "outcome", "outcome_date", "confirmed_at")
KINDS = ("fail", "unknown", "review")
"""The verdicts the log lists, in the order of its columns ``failing``, ``missing``, ``review``."""
_LETTERS = {"p": "pass", "f": "fail", "u": "unknown", "r": "review"}
"""A screening's compact verdicts (``store.screening.compact``), read back."""

_T = LogRow.__table__
_AFTER_SCREENING = (
    update(_T).where(_T.c.patient_pk == bindparam("patient"))
    .values(first_screened=func.coalesce(_T.c.first_screened, bindparam("as_of")),
            status_since=case((_T.c.status == bindparam("status"), _T.c.status_since), else_=bindparam("as_of")),
            confirmed_at=case((bindparam("status") == "eligible", _T.c.confirmed_at), else_=null()),
            status=bindparam("status"), last_screening_pk=bindparam("screening_pk"),
            failing=bindparam("failing"), missing=bindparam("missing"), review=bindparam("review"),
            eligible_from=bindparam("eligible_from"),
            eligible_until=bindparam("eligible_until"), protocol_version=bindparam("protocol_version"))
)


def listed(verdicts) -> dict[str, str]:
    """``failing``, ``missing`` and ``review`` of (criterion id, verdict) pairs in contract §1 order."""
    pairs = list(verdicts)
    return {column: ";".join(cid for cid, v in pairs if v == kind)
            for column, kind in zip(("failing", "missing", "review"), KINDS)}


def shown(moment: datetime) -> str:
    """A stored instant as the log shows it: ISO, in UTC (SQLite keeps UTC without its offset)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _ensure(session: Session, patient_pk: int) -> None:
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(_T).values(patient_pk=patient_pk).on_conflict_do_nothing())


def after_screening(session: Session, patient_pk: int, screening_pk: int, *, as_of: date, status: str,
                    verdicts, eligible_from: date | None, eligible_until: date | None,
                    protocol_version: str) -> None:
    """The child's row after a screening is stored (under the patient row lock); ``verdicts``: each
    criterion's (id, verdict), in contract §1 order."""
    _ensure(session, patient_pk)
    session.connection().execute(_AFTER_SCREENING, {
        "patient": patient_pk, "screening_pk": screening_pk, "as_of": as_of, "status": status,
        "eligible_from": eligible_from, "eligible_until": eligible_until, "protocol_version": protocol_version,
        **listed(verdicts)})


def after_outcome(session: Session, patient_pk: int, outcome: str, recorded_on: date) -> None:
    """The latest outcome stands."""
    _ensure(session, patient_pk)
    session.connection().execute(update(_T).where(_T.c.patient_pk == patient_pk)
                                 .values(outcome=outcome, outcome_date=recorded_on))


def after_confirmation(session: Session, patient_pk: int, signed_at: datetime) -> None:
    """A confirmation signs the latest screening, eligible: it stands from now on."""
    _ensure(session, patient_pk)
    session.connection().execute(update(_T).where(_T.c.patient_pk == patient_pk)
                                 .values(confirmed_at=shown(signed_at)))


def maintained(session: Session) -> dict[int, dict]:
    """Every maintained row, by patient pk."""
    return {row.patient_pk: {f: getattr(row, f) for f in FIELDS} for row in session.execute(select(_T))}


def _status_since(screenings: list[tuple[int, date, str]]) -> date | None:
    since, status = None, screenings[-1][2]
    for _, as_of, each in reversed(screenings):
        if each != status:
            break
        since = as_of
    return since


def _standing_since(signatures: list[tuple[int, datetime]], screenings: list[tuple[int, date, str]]):
    for screening_pk, signed_at in reversed(signatures):
        if all(status == "eligible" for pk, _, status in screenings if pk > screening_pk):
            return shown(signed_at)
    return None


def recomputed(session: Session) -> dict[int, dict]:
    """The rows as the screenings, outcomes and confirmations themselves give them, by patient pk."""
    rows: dict[int, dict] = {}
    history: dict[int, list] = {}
    for s in session.execute(select(ScreeningRow.patient_pk, ScreeningRow.pk, ScreeningRow.as_of, ScreeningRow.status,
                                    ScreeningRow.verdicts, ScreeningRow.eligible_from, ScreeningRow.eligible_until,
                                    ScreeningRow.protocol_version).order_by(ScreeningRow.pk)):
        history.setdefault(s.patient_pk, []).append((s.pk, s.as_of, s.status))
        row = rows.setdefault(s.patient_pk, dict.fromkeys(FIELDS) | {"first_screened": s.as_of})
        row.update(last_screening_pk=s.pk, status=s.status, eligible_from=s.eligible_from,
                   eligible_until=s.eligible_until, protocol_version=s.protocol_version,
                   **listed(zip(ORDER, (_LETTERS[letter] for letter in s.verdicts or ""))))
    for patient_pk, screenings in history.items():
        rows[patient_pk]["status_since"] = _status_since(screenings)
    for o in session.execute(select(ScreeningOutcome.patient_pk, ScreeningOutcome.outcome, ScreeningOutcome.recorded_on)
                             .order_by(ScreeningOutcome.pk)):
        rows.setdefault(o.patient_pk, dict.fromkeys(FIELDS)).update(outcome=o.outcome, outcome_date=o.recorded_on)
    signed: dict[int, list] = {}
    for c in session.execute(select(Confirmation.patient_pk, Confirmation.screening_pk, Confirmation.signed_at)
                             .order_by(Confirmation.pk)):
        signed.setdefault(c.patient_pk, []).append((c.screening_pk, c.signed_at))
    for patient_pk, signatures in signed.items():
        rows.setdefault(patient_pk, dict.fromkeys(FIELDS))["confirmed_at"] = _standing_since(
            signatures, history.get(patient_pk, []))
    return rows
