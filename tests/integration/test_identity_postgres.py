"""Contract §13 against the real PostgreSQL and Redis: the two-sites-same-record-number scenario end
to end over HTTP with real API and worker processes, and the no-500 property tests on PostgreSQL
(whose column widths and integer ranges SQLite does not enforce)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from store.models import Alert, Fact, Patient
from store.tokens import create_token
from tests.api.test_identity import MRN_A, MRN_B, neutrophils, oru, registered
from tests.api.test_no_500 import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_nul_character_is_refused_and_nothing_is_stored,
    test_no_fhir_input_answers_500_or_is_half_stored,
    test_no_hl7_message_answers_500_or_is_half_stored,
    test_overlong_ids_and_identifiers_are_refused_not_sent_to_the_database,
)
from tests.fhir_samples import bundle
from tests.integration.conftest import wait_until
from tests.processes import free_port

HL7 = {"Content-Type": "x-application/hl7-v2+er7"}


def _bearer(rt, role: str, sites: list[str], name: str) -> dict:
    with rt.uow() as uow:
        token = create_token(uow.session, role, sites, name, rt.clock.now())
        uow.commit()
    return {"Authorization": f"Bearer {token}"}


def _evaluated(rt, pid: str, at_least: int = 1):
    with rt.uow() as uow:
        row = uow.session.execute(select(Patient.status, Patient.evaluated_seq, Patient.pending_seq)
                                  .where(Patient.id == pid)).first()
    return row is not None and row.evaluated_seq >= at_least and row.evaluated_seq == row.pending_seq


def test_two_sites_with_the_same_record_number_never_mix_end_to_end(rt, processes, tmp_path):
    processes.env["MYOCIT_HL7_AUTHORITIES"] = f"NECKER={MRN_A},RDEBRE={MRN_B}"
    port = free_port()
    processes.start("api", f"--port={port}", log=tmp_path / "api-b.log")
    api_b = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(api_b), what="the second API")
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    lab_a = _bearer(rt, "lab", ["site-a"], "lab A")
    lab_b = _bearer(rt, "lab", ["site-b"], "lab B")
    coordinator_a = _bearer(rt, "coordinator", ["site-a"], "coordinator A")
    coordinator_b = _bearer(rt, "coordinator", ["site-b"], "coordinator B")
    with httpx.Client(timeout=30) as client:
        for lab, pid, site, system in ((lab_a, "kid-a", "site-a", MRN_A), (lab_b, "kid-b", "site-b", MRN_B)):
            record = [registered(pid, site, (system, "A-222")), neutrophils({"reference": f"Patient/{pid}"}, 4.0)]
            assert client.post(f"{api_b}/fhir", json=bundle(record), headers=lab).status_code == 202
        wait_until(lambda: _evaluated(rt, "kid-a") and _evaluated(rt, "kid-b"), what="first screenings")

        # Site B's lab: its child's neutrophils at 0.3, by its own authority.
        ack = client.post(f"{api_b}/hl7v2", content=oru("A-222^^^RDEBRE^MR", 0.3, "B-1"), headers={**lab_b, **HL7})
        assert "MSA|AA|B-1" in ack.text
        # Site B's lab naming site A's authority, and site B's lab posting for site A's child by id.
        wrong = client.post(f"{api_b}/hl7v2", content=oru("A-222^^^NECKER^MR", 0.3, "B-2"), headers={**lab_b, **HL7})
        assert "MSA|AE|B-2" in wrong.text
        forbidden = client.post(f"{api_b}/fhir", json=bundle([neutrophils({"reference": "Patient/kid-a"}, 0.3)]),
                                headers=lab_b)
        assert forbidden.status_code == 403
        moved = client.post(f"{api_b}/fhir/Patient", json=registered("kid-a", "site-b"), headers=lab_b)
        assert moved.status_code == 403
        wait_until(lambda: _evaluated(rt, "kid-b", 2), what="site B's child re-screened")

        status_a = client.get(f"{api_b}/patients/kid-a/eligibility", headers=coordinator_a).json()["status"]
        status_b = client.get(f"{api_b}/patients/kid-b/eligibility", headers=coordinator_b).json()["status"]
        assert status_b == "ineligible" and status_a != "ineligible"
        assert client.get(f"{api_b}/alerts", headers=coordinator_a).json() == []
        alerts_b = client.get(f"{api_b}/alerts", headers=coordinator_b).json()
        assert [(a["patient"], a["to_status"]) for a in alerts_b] == [("kid-b", "ineligible")]
        assert client.get(f"{api_b}/patients/kid-a/eligibility", headers=coordinator_b).status_code == 404
    with rt.uow() as uow:
        site_of_a = uow.session.scalar(select(Patient.site).where(Patient.id == "kid-a"))
        facts_of_a = uow.session.scalar(select(func.count()).select_from(Fact).join(Patient)
                                        .where(Patient.id == "kid-a"))
        alerts = uow.session.scalar(select(func.count()).select_from(Alert))
    assert (site_of_a, facts_of_a, alerts) == ("site-a", 1, 1)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 503)
    except httpx.HTTPError:
        return False
