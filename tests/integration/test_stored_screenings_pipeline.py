"""Contract §5.1 against the real PostgreSQL and Redis, with real API and worker processes: a reader
is shown only stored screenings, so each status it sees is one the alert stream knows."""

from __future__ import annotations

from datetime import date

import httpx

from store.tokens import create_token
from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record, post_parts
from tests.integration.conftest import wait_until

DAY = date(2026, 12, 1)


def test_bundle_read_then_a_positive_cmv_raises_exactly_one_alert(rt, api, processes, tmp_path):
    with rt.uow() as uow:
        lab, coordinator, investigator = ({"Authorization": f"Bearer {create_token(uow.session, role, ['site-a'], role, rt.clock.now())}"}
                                          for role in ("lab", "coordinator", "investigator"))
        uow.commit()
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    seen: list[tuple[int, str | None]] = []

    def read():
        response = client.get(f"{api}/patients/p-seq/eligibility", headers=coordinator)
        body = response.json()
        seen.append((response.status_code, body.get("status")))
        if response.status_code == 202:
            assert response.headers["Retry-After"] and body["resourceType"] == "OperationOutcome"
            return None
        assert body["stored"] is True
        return body

    with httpx.Client(timeout=30) as client:
        record = eligible_record("p-seq", DAY, with_cmv=False) + [coded("p-seq", "4996-5", NOT_DETECTED, "2026-11-25")]
        assert post_parts(client, lab, investigator, record, url=f"{api}/fhir").status_code == 202
        first = wait_until(read, what="the first stored screening")
        assert first["status"] == "eligible"
        positive = bundle([coded("p-seq", "4996-5", DETECTED, "2026-11-30")], "batch")
        assert client.post(f"{api}/fhir", json=positive, headers=lab).status_code == 202
        wait_until(lambda: (read() or {}).get("status") == "ineligible", what="ineligible")
        alerts = client.get(f"{api}/alerts", headers=coordinator).json()
    assert [(a["from_status"], a["to_status"]) for a in alerts] == [
        (None, "eligible"), ("eligible", "ineligible")]
    # Every status the reader was shown is one of the chain the alerts describe.
    shown = {status for code, status in seen if code == 200}
    assert shown <= {"eligible", "ineligible"} and all(code in (200, 202) for code, _ in seen)
