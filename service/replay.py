"""Replay (contract §11): what myocit could have known at an instant, and what an alert was raised on."""

from __future__ import annotations

from config.language import screening_in
from domain import evaluate
from store import audit, replay, views
from store.models import row_id_in_range
from store.uow import UnitOfWork
from service.alerts import alert_json
from service.commands import ReplayAlert, ScreenKnownAt
from service.errors import NotFound
from service.ports import Clock


def screen_known_at(cmd: ScreenKnownAt, uow: UnitOfWork, *, protocol, clock: Clock, language: str = "en") -> dict:
    """As of ``cmd.as_of`` with only the facts received at or before ``cmd.known_at``; stored nowhere,
    raising no alert (``stored: false``). Audited as a view."""
    with uow:
        row = views.visible_patient(uow.session, cmd.reader, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id} for this site")
        record = replay.record_known_at(uow.session, row, protocol, cmd.known_at)
        computed = evaluate(record, protocol, cmd.as_of)
        result = screening_in(computed.to_json(), computed.reasons(), language)
        audit.record(uow.session, cmd.reader, "view", None, clock.now(),
                     role=cmd.reader.role, screening_id=row.screening_id)
        uow.commit()
    return {**result, "stored": False, "known_at": cmd.known_at.isoformat()}


def replay_alert(cmd: ReplayAlert, uow: UnitOfWork, *, clock: Clock) -> dict:
    """The alert as ``GET /alerts`` lists it, with the stored screening that raised it and the facts
    that screening used (resource, effective date, received time, and the fact itself, so that the
    screening can be evaluated again from them). ``NotFound`` when it is not the caller's site's."""
    with uow:
        found = replay.alert_with_screening(uow.session, cmd.alert_id) if row_id_in_range(cmd.alert_id) else None
        if found is None or not cmd.reader.sees_site(found[0].site):
            raise NotFound(f"no alert {cmd.alert_id} for this site")
        alert, patient, screening = found
        facts = replay.facts_by_pk(uow.session, list(screening.fact_pks or []))
        audit.record(uow.session, cmd.reader, "view-alert", f"Alert/{alert.pk}", clock.now())
        body = {**alert_json(alert, patient.id),
                "screening": {**screening.result, "screened_at": views.utc(screening.created_at).isoformat(),
                              "trigger": screening.trigger, "stored": True},
                "facts": [f.to_json() for f in facts]}
        uow.commit()
    return body
