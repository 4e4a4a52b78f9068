"""What the coordinators' and investigators' pages read (contract §13: every page is audited as a
view, in the transaction that reads it). Each function reads ``store.views`` within the reader's
sites, audits, commits and returns what the page shows; the pages only shape and render it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.confirmation import stands
from store import audit, cds, views
from store.models import Alert, Patient
from domain.identity import Caller
from store.uow import UnitOfWork
from service.errors import NotFound
from service.ports import Clock

AUDIT_PAGE_ENTRIES = 300
ALERTS_PAGE_LIMIT = 500


def _visible(session, reader: Caller, patient_id: str) -> Patient:
    row = views.visible_patient(session, reader, patient_id)
    if row is None:
        raise NotFound(f"no patient {patient_id} for this site")
    return row


def _signatures(session, row: Patient) -> list[tuple]:
    """(confirmation, whether it still stands) of a child, newest first."""
    return [(c, stands(result, c.sha256, c.signed_keys, since))
            for c, result, since in views.confirmations_of(session, row)]


def worklist(reader: Caller, uow: UnitOfWork, *, clock: Clock) -> list[views.WorklistRow]:
    with uow:
        rows = views.worklist(uow.session, reader)
        audit.record(uow.session, reader, "view-worklist", f"Site/{reader.site_label}", clock.now())
        uow.commit()
    return rows


@dataclass(frozen=True)
class PatientFile:
    """Everything the patient page shows of a child: its row, its latest stored screening, the
    history of its screenings, its alerts and the trial's records (outcomes, signatures, attestations)."""

    patient: Patient
    stored: views.StoredScreening | None
    history: list[tuple]
    alerts: list[Alert]
    outcomes: list
    signatures: list[tuple]
    attestations: list[tuple]
    ehr_feedback: list[tuple] = ()
    """(outcome_at, outcome, reason code) of what clinicians did with its cards in the EHR (§15)."""


def patient_file(patient_id: str, reader: Caller, uow: UnitOfWork, *, clock: Clock) -> PatientFile:
    """``NotFound`` when the child is not of the reader's sites."""
    with uow:
        session = uow.session
        row = _visible(session, reader, patient_id)
        found = PatientFile(row, views.latest_screening(session, row), views.screening_history(session, row),
                            views.alerts_of_patient(session, row), views.outcomes_of(session, row),
                            _signatures(session, row), views.attestations_of(session, row),
                            cds.feedback_of(session, row.pk))
        audit.record(session, reader, "view", None, clock.now(),
                     role=reader.role, screening_id=row.screening_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class Checklist:
    """The eligibility checklist of a child: its latest stored screening and the signatures."""

    patient: Patient
    stored: views.StoredScreening | None
    signatures: list[tuple]


def checklist(patient_id: str, reader: Caller, uow: UnitOfWork, *, clock: Clock) -> Checklist:
    with uow:
        row = _visible(uow.session, reader, patient_id)
        found = Checklist(row, views.latest_screening(uow.session, row), _signatures(uow.session, row))
        audit.record(uow.session, reader, "view-checklist", None, clock.now(),
                     role=reader.role, screening_id=row.screening_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class AlertBoard:
    """The alerts of a coordinator's sites (alert, patient id, status), and each one's window's end."""

    rows: list[tuple]
    windows: dict[int, date]


def alert_board(reader: Caller, uow: UnitOfWork, *, clock: Clock) -> AlertBoard:
    with uow:
        rows = views.alerts_with_status(uow.session, reader, limit=ALERTS_PAGE_LIMIT)
        windows = views.alert_windows(uow.session, [row[0].screening_pk for row in rows])
        audit.record(uow.session, reader, "view-alerts", f"Site/{reader.site_label}", clock.now())
        uow.commit()
    return AlertBoard(rows, windows)


def audit_trail(reader: Caller, uow: UnitOfWork, *, clock: Clock) -> list[tuple]:
    """(at, actor, action, target) of the latest audited acts, newest first; reading it is audited too."""
    with uow:
        entries = views.audit_entries(uow.session, AUDIT_PAGE_ENTRIES)
        audit.record(uow.session, reader, "view-audit", None, clock.now())
        uow.commit()
    return entries


@dataclass(frozen=True)
class ProtocolHistory:
    """The activations of protocol versions, newest first, and the last shadow run's report."""

    activations: list[tuple]
    shadow_report: dict | None


def protocol_history(reader: Caller, uow: UnitOfWork, *, clock: Clock) -> ProtocolHistory:
    with uow:
        found = ProtocolHistory(views.protocol_activations(uow.session), views.last_shadow_report(uow.session))
        audit.record(uow.session, reader, "view-protocols", None, clock.now())
        uow.commit()
    return found
