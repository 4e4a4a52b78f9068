"""Read models: every query the pages and routes need, in one place, always within the caller's
sites. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import NamedTuple

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from config.language import screening_in
from domain.identity import Caller
from store import audit, protocols
from store.models import Alert, LogRow, Patient, ScreeningRow


def visible_patient(session: Session, caller: Caller, patient_id: str) -> Patient | None:
    """The registered child ``patient_id`` if it is of the caller's sites, else None (the same answer
    whether it exists elsewhere or not)."""
    row = session.scalar(select(Patient).where(Patient.id == patient_id, Patient.registered.is_(True)))
    return row if row is not None and caller.sees_site(row.site) else None


def utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp with its offset (SQLite keeps UTC without it)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class StoredScreening:
    """The latest stored screening of a child (contract §5.1)."""

    result: dict
    screened_at: datetime
    pending: bool
    """Data arrived after this screening and its evaluation is not stored yet."""
    reasons: list | None = None
    """Each criterion's reason as a message (contract §18); None for a screening stored before."""

    def in_language(self, language: str) -> dict:
        """The §3 object with its reasons written in ``language``."""
        return screening_in(self.result, self.reasons, language)

    def to_json(self, language: str = "en") -> dict:
        return {**self.in_language(language), "screened_at": self.screened_at.isoformat(), "pending": self.pending,
                "stored": True}


def is_pending(row: Patient) -> bool:
    return row.pending_seq > row.evaluated_seq


def latest_screening(session: Session, row: Patient) -> StoredScreening | None:
    stored = session.execute(select(ScreeningRow.result, ScreeningRow.created_at, ScreeningRow.reasons)
                             .where(ScreeningRow.patient_pk == row.pk)
                             .order_by(ScreeningRow.pk.desc()).limit(1)).first()
    if stored is None:
        return None
    return StoredScreening(stored.result, utc(stored.created_at), is_pending(row), stored.reasons)


def screening_history(session: Session, row: Patient) -> list[tuple]:
    """(created_at, as_of, status, trigger) of every stored screening, oldest first."""
    return [tuple(r) for r in session.execute(
        select(ScreeningRow.created_at, ScreeningRow.as_of, ScreeningRow.status, ScreeningRow.trigger)
        .where(ScreeningRow.patient_pk == row.pk).order_by(ScreeningRow.pk)).all()]


def alerts_of_patient(session: Session, row: Patient) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.patient_pk == row.pk).order_by(Alert.pk)))


def alerts_for(session: Session, caller: Caller, *, after: int = 0, limit: int = 5000,
               newest_first: bool = False) -> list[tuple[Alert, str]]:
    """(alert, patient id) of the caller's sites, oldest first (or the newest ``limit``, newest first)."""
    query = select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(Alert.pk > after)
    if caller.role != "admin":
        query = query.where(Alert.site.in_(sorted(caller.sites)))
    order = Alert.pk.desc() if newest_first else Alert.pk
    return [tuple(r) for r in session.execute(query.order_by(order).limit(limit)).all()]


def alert_windows(session: Session, screening_pks: list[int]) -> dict[int, date]:
    """The ``eligible_until`` (contract §1.2) of the screenings that raised alerts, by screening pk."""
    if not screening_pks:
        return {}
    return dict(session.execute(select(ScreeningRow.pk, ScreeningRow.eligible_until).where(
        ScreeningRow.pk.in_(screening_pks), ScreeningRow.eligible_until.is_not(None))).all())


def alerts_with_status(session: Session, caller: Caller, *, limit: int) -> list[tuple[Alert, str, str | None]]:
    """(alert, patient id, the child's status now) of the caller's sites, the newest ``limit``, newest
    first: the alerts page shows where each child stands beside the change that raised its alert."""
    query = (select(Alert, Patient.id, Patient.status).join(Patient, Patient.pk == Alert.patient_pk))
    if caller.role != "admin":
        query = query.where(Alert.site.in_(sorted(caller.sites)))
    return [tuple(r) for r in session.execute(query.order_by(Alert.pk.desc()).limit(limit)).all()]


def alert_for_update(session: Session, alert_pk: int) -> tuple[Alert, str] | None:
    """(alert, patient id), the alert row locked for an acknowledgement."""
    found = session.execute(
        select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(Alert.pk == alert_pk)
        .with_for_update(of=Alert)
    ).first()
    return tuple(found) if found is not None else None


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    screening: ScreeningRow | None


def worklist(session: Session, caller: Caller) -> list[WorklistRow]:
    """Every registered child of the caller's sites with its latest stored screening (None before
    the first), by screening id."""
    latest = (select(ScreeningRow.patient_pk, func.max(ScreeningRow.pk).label("pk"))
              .group_by(ScreeningRow.patient_pk).subquery())
    query = (select(Patient, ScreeningRow)
             .outerjoin(latest, latest.c.patient_pk == Patient.pk)
             .outerjoin(ScreeningRow, ScreeningRow.pk == latest.c.pk)
             .where(Patient.registered.is_(True)))
    if caller.role != "admin":
        query = query.where(Patient.site.in_(sorted(caller.sites)))
    return [WorklistRow(p, s) for p, s in session.execute(query.order_by(Patient.id)).all()]


def never_screened_patients_of(session: Session, message_pk: int) -> list[int]:
    """The children a stored message's facts belong to that have no screening yet (an initial load
    cut short before its end: running it again screens them)."""
    from store.models import Fact

    return sorted(session.scalars(
        select(Patient.pk).join(Fact, Fact.patient_pk == Patient.pk)
        .where(Fact.message_pk == message_pk, Patient.status.is_(None)).distinct()))


# --- the screening log and funnel, and confirmations (contract §8, §9) -----------------------------


class LogEntry(NamedTuple):
    """One child of the screening log: the columns of contract §8 in their order, as text (``failing``,
    ``missing`` and ``review``: the latest screening's criterion ids of that verdict, joined by ``;``;
    dates ISO), then the child's screening id. An erased child's ``first_screened`` is a month."""

    patient: str
    site: str | None
    first_screened: str | None
    status: str
    status_since: str | None
    eligible_from: str | None
    failing: str
    missing: str
    review: str
    outcome: str | None
    outcome_date: str | None
    confirmed_at: str | None
    protocol_version: str | None
    eligible_until: str | None = None
    screening_id: str | None = None


@dataclass(frozen=True)
class LogGroup:
    """Children of the log alike in all the funnel counts (contract §8), and how many they are."""

    status: str
    failing: str
    missing: str
    review: str
    outcome: str | None
    confirmed: bool
    children: int


def _in_sites(query, caller: Caller, site: str | None):
    query = query.where(Patient.registered.is_(True))
    if caller.role != "admin":
        query = query.where(Patient.site.in_(sorted(caller.sites)))
    if site is not None:
        query = query.where(Patient.site == site)
    return query


def _logged(query, caller: Caller, site: str | None, first_from: date | None, first_to: date | None):
    """``query`` over the maintained log rows (``store.log_rows``) of the caller's children (narrowed to
    ``site``) first screened within the period."""
    query = _in_sites(query.join(Patient, Patient.pk == LogRow.patient_pk).where(LogRow.first_screened.is_not(None)),
                      caller, site)
    if first_from is not None:
        query = query.where(LogRow.first_screened >= first_from)
    if first_to is not None:
        query = query.where(LogRow.first_screened <= first_to)
    return query


def screening_log(session: Session, caller: Caller, *, site: str | None = None, first_from: date | None = None,
                  first_to: date | None = None) -> list[LogEntry]:
    """Every child of the caller's sites (narrowed to ``site``) first screened within the period (by the
    screening day of its first stored screening), by patient id, then what stays of erased children
    (``erased_entries``). Two statements whatever the number of children: the maintained log rows,
    one per child, never the screenings."""
    iso = [cast(c, String) for c in (LogRow.first_screened, LogRow.status_since, LogRow.eligible_from,
                                     LogRow.outcome_date, LogRow.eligible_until)]
    query = _logged(select(Patient.id, Patient.site, iso[0], LogRow.status, iso[1], iso[2], LogRow.failing,
                           LogRow.missing, LogRow.review, LogRow.outcome, iso[3], LogRow.confirmed_at,
                           LogRow.protocol_version, iso[4], Patient.screening_id).select_from(LogRow),
                    caller, site, first_from, first_to)
    # The row is the entry: every column comes out of the database as the log shows it.
    entries = list(map(LogEntry._make, session.connection().execute(query.order_by(Patient.id)).fetchall()))
    return entries + erased_entries(session, caller, site=site, first_from=first_from, first_to=first_to)


def log_groups(session: Session, caller: Caller, *, site: str | None = None, first_from: date | None = None,
               first_to: date | None = None) -> list[LogGroup]:
    """The children of ``screening_log`` (erased ones apart) counted in groups alike for the funnel:
    one statement, grouped in the database."""
    confirmed = LogRow.confirmed_at.is_not(None)
    alike = (LogRow.status, LogRow.failing, LogRow.missing, LogRow.review, LogRow.outcome, confirmed)
    query = _logged(select(*alike, func.count()).select_from(LogRow), caller, site, first_from, first_to)
    return [LogGroup(*row) for row in session.connection().execute(query.group_by(*alike))]


def erased_entries(session: Session, caller: Caller, *, site: str | None = None, first_from: date | None = None,
                   first_to: date | None = None) -> list[LogEntry]:
    """The rows that stay of erased children (contract §17): an objected child's says ``objected`` and
    nothing else; a purged child's keeps its site, month of first screening, last status, failing
    criteria and outcome, and no patient."""
    from store.models import ErasedChild

    query = select(ErasedChild).order_by(ErasedChild.pk)
    if caller.role != "admin":
        query = query.where(ErasedChild.site.in_(sorted(caller.sites)))
    if site is not None:
        query = query.where(ErasedChild.site == site)
    entries = []
    for row in session.scalars(query):
        month = row.first_screened_month
        if (first_from or first_to) and (month is None or (first_from and month < first_from.strftime("%Y-%m"))
                                         or (first_to and month > first_to.strftime("%Y-%m"))):
            continue
        objected = row.reason == "objection"
        if not objected and row.last_status is None:
            continue    # purged before it was ever screened: it was never in the log
        entries.append(LogEntry(
            patient=row.screening_id if objected else "", site=row.site, first_screened=month,
            status="objected" if objected else (row.last_status or ""), status_since=None, eligible_from=None,
            failing=row.failing or "", missing="", review="", outcome=row.outcome, outcome_date=None, confirmed_at=None, protocol_version=None,
            screening_id=row.screening_id))
    return entries


def confirmations_of(session: Session, row: Patient) -> list[tuple]:
    """(confirmation, the signed screening's result, statuses of the screenings stored after the signed
    one) of a child, newest first."""
    from store.models import Confirmation

    statuses = session.execute(select(ScreeningRow.pk, ScreeningRow.status).where(ScreeningRow.patient_pk == row.pk)).all()
    signed = session.execute(select(Confirmation, ScreeningRow.result, ScreeningRow.reasons)
                             .join(ScreeningRow, ScreeningRow.pk == Confirmation.screening_pk)
                             .where(Confirmation.patient_pk == row.pk)
                             .order_by(Confirmation.pk.desc())).all()
    # The signed object in the language it was signed in (contract §18): its hash is checked there.
    return [(c, screening_in(result, reasons, c.language or "en"),
             [status for pk, status in statuses if pk > c.screening_pk]) for c, result, reasons in signed]


def outcomes_of(session: Session, row: Patient) -> list:
    """Every outcome recorded for a child, oldest first (the latest stands)."""
    from store.models import ScreeningOutcome

    return list(session.scalars(select(ScreeningOutcome).where(ScreeningOutcome.patient_pk == row.pk)
                                .order_by(ScreeningOutcome.pk)))


def attestations_of(session: Session, row: Patient) -> list[tuple]:
    """(received_at, criterion, verdict, performer, message body) of every attestation filed for a
    child, in storage order: what a replacing attestation replaces, and the timeline's entries."""
    from store.models import Fact, Message

    rows = session.execute(
        select(Message.received_at, Fact.payload, Message.body, Message.channel)
        .join(Message, Message.pk == Fact.message_pk)
        .where(Fact.patient_pk == row.pk, Fact.kind == "Attestation").order_by(Fact.pk)).all()
    return [(at, p.get("criterion"), p.get("verdict"), p.get("performer"), body if channel == "ui" else None)
            for at, p, body, channel in rows]


def audit_entries(session: Session, limit: int) -> list[tuple]:
    """(at, actor, action, target) of the latest audited acts, newest first; a child by its screening id."""
    return [(e.at, e.actor, e.action, " ".join(filter(None, (e.screening_id, e.target))) or None)
            for e in audit.latest(session, limit)]


def protocol_activations(session: Session) -> list[tuple]:
    """(activated_at, name, version, activated_by, patients) of the protocol activations, newest first."""
    return [(r.activated_at, r.name, r.version, r.activated_by, r.patients) for r in protocols.activations(session)]


def last_shadow_report(session: Session) -> dict | None:
    """The last shadow run's report (contract §10), if any."""
    last = protocols.last_shadow_report(session)
    return last.report if last is not None else None
