"""The read model behind ResearchSubject (contract §16): what the store knows of each registered child
of some sites, in four statements whatever their number. Nothing here writes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.research import SubjectFacts
from store.models import Confirmation, Patient, ScreeningOutcome, ScreeningRow
from store.views import utc


def subject_facts(session: Session, *, sites: list[str] | None, patient_id: str | None = None) -> list[SubjectFacts]:
    """The registered children of ``sites`` (None: every site), or the one ``patient_id``, by id."""
    query = select(Patient.pk, Patient.id, Patient.site, Patient.alerts_stopped_at,
                   Patient.screening_id).where(Patient.registered.is_(True))
    if sites is not None:
        query = query.where(Patient.site.in_(sites))
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    children = session.execute(query.order_by(Patient.id)).all()
    if not children:
        return []
    chosen = query.with_only_columns(Patient.pk).order_by(None)

    def wanted(statement, column):
        return statement.where(column.in_(chosen))

    history: dict[int, list] = {}
    for row in session.execute(wanted(select(ScreeningRow.patient_pk, ScreeningRow.pk, ScreeningRow.created_at,
                                             ScreeningRow.status, ScreeningRow.eligible_from),
                                      ScreeningRow.patient_pk).order_by(ScreeningRow.pk)):
        history.setdefault(row.patient_pk, []).append(row)
    latest = wanted(select(func.max(ScreeningOutcome.pk)), ScreeningOutcome.patient_pk).group_by(
        ScreeningOutcome.patient_pk)
    outcomes = {r.patient_pk: (r.outcome, r.recorded_at) for r in session.execute(
        select(ScreeningOutcome.patient_pk, ScreeningOutcome.outcome, ScreeningOutcome.recorded_at)
        .where(ScreeningOutcome.pk.in_(latest)))}
    signed: dict[int, list] = {}
    for row in session.execute(wanted(select(Confirmation.patient_pk, Confirmation.screening_pk,
                                             Confirmation.signed_at), Confirmation.patient_pk)
                               .order_by(Confirmation.pk)):
        signed.setdefault(row.patient_pk, []).append(row)
    return [_facts(c, history.get(c.pk, []), outcomes.get(c.pk), signed.get(c.pk, [])) for c in children]


def _facts(child, screenings: list, outcome: tuple | None, signatures: list) -> SubjectFacts:
    last = screenings[-1] if screenings else None
    run_start = None
    for row in reversed(screenings):
        if row.status != last.status:
            break
        run_start = row.created_at
    standing = None
    for signature in reversed(signatures):
        if all(s.status == "eligible" for s in screenings if s.pk > signature.screening_pk):
            standing = signature.signed_at
            break
    moments = [utc(m) for m in (run_start, outcome[1] if outcome else None, standing, child.alerts_stopped_at)
               if m is not None]
    return SubjectFacts(
        patient_id=child.id, site=child.site,
        screening_status=last.status if last else None,
        eligible_from=last.eligible_from if last else None,
        first_screened_at=utc(screenings[0].created_at) if screenings else None,
        status_changed_at=max(moments) if moments else None,
        outcome=outcome[0] if outcome else None,
        consent_ended=child.alerts_stopped_at is not None,
        confirmed=standing is not None,
        screening_id=child.screening_id,
    )
