"""Event numbers under concurrent evaluations on PostgreSQL (contract §16): alerts stored at the same
instant by many transactions still take the numbers 1..n of a subscription, each once, none skipped;
a transaction rolled back takes none."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from store import fhir_subscriptions
from store.models import Alert, FhirEvent, Patient, ScreeningRow
from bootstrap import Runtime, install
from config.settings import Settings

pytestmark = pytest.mark.services
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ALERTS = 40


@pytest.fixture()
def rt(clean_db, tmp_path):
    runtime = Runtime(Settings(database_url=clean_db, home=tmp_path, today="2026-12-01"))
    install(runtime)
    yield runtime
    runtime.dispose()


def _alerts(rt) -> tuple[int, list[int]]:
    with rt.uow() as uow:
        session = uow.session
        _, row = fhir_subscriptions.create(session, endpoint="https://ctms.example/hook", sites=["site-a"],
                                           statuses=None, filters=[], content="id-only", headers=[], heartbeat=None,
                                           reason="r", actor="admin", now=NOW)
        row.status = "active"
        made = []
        for n in range(ALERTS):
            patient = Patient(id=f"p-{n}", registered=True, site="site-a", pending_seq=1, evaluated_seq=1)
            session.add(patient)
            session.flush()
            screening = ScreeningRow(patient_pk=patient.pk, created_at=NOW, as_of=date(2026, 12, 1), status="eligible",
                                     protocol_version="2026-11", result={}, fact_pks=[])
            session.add(screening)
            session.flush()
            alert = Alert(patient_pk=patient.pk, screening_pk=screening.pk, site="site-a", to_status="eligible",
                          changed=[], created_at=NOW)
            session.add(alert)
            session.flush()
            made.append(alert.pk)
        uow.commit()
        return row.subscription_pk, made


def test_concurrent_alerts_take_every_number_once(rt):
    subscription_pk, alerts = _alerts(rt)
    start = threading.Barrier(8)

    def number(chunk: list[int], roll_back: bool) -> None:
        start.wait()
        for alert_pk in chunk:
            with rt.uow() as uow:
                fhir_subscriptions.number_events(uow.session, alert_pk=alert_pk, patient_id=f"p-{alert_pk}",
                                                 site="site-a", to_status="eligible", now=NOW)
                if not roll_back:
                    uow.commit()

    chunks = [alerts[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        # Every thread first numbers an alert it then rolls back: the number it took is given again.
        list(pool.map(lambda c: number(c[:1], True), chunks))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda c: number(c, False), chunks))
    with rt.uow() as uow:
        events = uow.session.execute(select(FhirEvent.event_number, FhirEvent.alert_pk)
                                     .where(FhirEvent.subscription_pk == subscription_pk)).all()
    assert sorted(n for n, _ in events) == list(range(1, ALERTS + 1))
    assert sorted(a for _, a in events) == sorted(alerts)
