"""Coordinators working their alerts."""

from __future__ import annotations

from store import audit, views
from store.models import MAX_ROW_ID, Alert, row_id_in_range
from store.uow import UnitOfWork
from service.commands import AcknowledgeAlert
from service.errors import NotFound
from service.ports import Clock

def alert_json(alert: Alert, patient_id: str) -> dict:
    return {
        "id": alert.pk,
        "patient": patient_id,
        "from_status": alert.from_status,
        "to_status": alert.to_status,
        "changed": alert.changed,
        "created_at": views.utc(alert.created_at).isoformat(),
        "acknowledged_at": views.utc(alert.acknowledged_at).isoformat() if alert.acknowledged_at else None,
        "confirmed": bool(alert.confirmed),
    }


def acknowledge_alert(cmd: AcknowledgeAlert, uow: UnitOfWork, *, clock: Clock) -> dict:
    """The alert, acknowledged (API and pages); ``NotFound`` when it is not the caller's site's.

    Idempotent: acknowledging again keeps the first acknowledgement (and audits the act).
    """
    with uow:
        now = clock.now()
        found = views.alert_for_update(uow.session, cmd.alert_id) if row_id_in_range(cmd.alert_id) else None
        if found is None or not cmd.coordinator.sees_site(found[0].site):
            raise NotFound(f"no alert {cmd.alert_id} for this site")
        alert, patient_id = found
        if alert.acknowledged_at is None:
            alert.acknowledged_at = now
            alert.acknowledged_by = cmd.coordinator.name
        audit.record(uow.session, cmd.coordinator, "ack", f"Alert/{alert.pk}", now)
        body = alert_json(alert, patient_id)
        uow.commit()
    return body


def list_alerts(reader, uow: UnitOfWork, *, clock: Clock, after: int = 0, limit: int = 500) -> list[dict]:
    """The alerts of the reader's sites after ``after``, oldest first; audited as a view."""
    with uow:
        rows = views.alerts_for(uow.session, reader, after=min(after, MAX_ROW_ID), limit=limit)
        audit.record(uow.session, reader, "view-alerts", f"Site/{reader.site_label}", clock.now())
        uow.commit()
        return [alert_json(alert, pid) for alert, pid in rows]
