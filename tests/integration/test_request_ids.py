"""Contract §12 with real processes (PostgreSQL, Redis, API and worker): one request id followed from
the HTTP request into the evaluation it caused, in JSON log lines; and no log line of the run names a
child (name, birth date, record number)."""

from __future__ import annotations

import json
from datetime import date

import httpx

from store.tokens import create_token
from tests.fhir_samples import DETECTED, bundle, coded, eligible_record, post_parts
from tests.integration.conftest import wait_until

DAY = date(2026, 12, 1)
SECRETS = ("Secretname", "Zoéline", "MRN-SECRET-0042", "2016-01-15")


def _lines(path) -> list[dict]:
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


def test_one_request_id_from_the_request_into_its_evaluation_and_no_patient_data_in_logs(
        rt, processes, tmp_path):
    processes.env["MYOCIT_LOG_FORMAT"] = "json"
    from tests.processes import free_port

    port = free_port()
    processes.start("api", f"--port={port}", log=tmp_path / "api.log")
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    api = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(api), what="the API")
    with rt.uow() as uow:
        lab, coordinator, investigator = ({"Authorization": f"Bearer {create_token(uow.session, role, ['site-a'], role, rt.clock.now())}"}
                                          for role in ("lab", "coordinator", "investigator"))
        uow.commit()
    record = eligible_record("p-logs", DAY, with_cmv=False) + [coded("p-logs", "4996-5", DETECTED, "2026-11-25")]
    record[0] = {**record[0], "birthDate": "2016-01-15", "name": [{"family": "Secretname", "given": ["Zoéline"]}],
                 "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "MRN-SECRET-0042"}]}
    with httpx.Client(timeout=30) as client:
        lab_traced = {**lab, "X-Request-ID": "trace-e2e-1"}
        assert post_parts(client, lab_traced, investigator, record, url=f"{api}/fhir").status_code == 202

        def screened():
            response = client.get(f"{api}/patients/p-logs/eligibility", headers=coordinator)
            return response.status_code == 200 and response.json()["status"] == "ineligible"

        wait_until(screened, what="the screening")
    api_lines, worker_lines = _lines(tmp_path / "api.log"), _lines(tmp_path / "worker.log")
    traced_api = [line for line in api_lines if line.get("request_id") == "trace-e2e-1"]
    traced_worker = [line for line in worker_lines if line.get("request_id") == "trace-e2e-1"]
    assert any("stored" in line["message"] for line in traced_api), api_lines[-5:]
    assert any("screening" in line["message"] for line in traced_worker), worker_lines[-5:]
    everything = (tmp_path / "api.log").read_text(errors="replace") + (tmp_path / "worker.log").read_text(errors="replace")
    for secret in SECRETS:
        assert secret not in everything, secret


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/livez", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
