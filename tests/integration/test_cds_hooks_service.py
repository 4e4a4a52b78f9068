"""The CDS Hooks service running (contract §15): an API process on PostgreSQL and Redis,
an EHR registered with `myocit ehr add`, and a real CDS Hooks client (healthchain's sandbox client, in
its own virtual environment, tests/cds) posting patient-view requests as an EHR does: signed by the
EHR's key, with a prefetch or naming the EHR's FHIR server; feedback recorded; `myocit ehr remove`
ending the EHR's access. The child is screened in this process, as a worker would screen it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from store.models import CdsFeedback, Patient
from store.tokens import create_token
from testkit.ehr import Ehr
from tests.cds_client import send_patient_view
from tests.fhir_samples import eligible_record, patient, post_parts
from tests.integration.conftest import ROOT

DAY = date(2026, 12, 1)
MRN = "urn:oid:1.2.250.1.71.4.2.7"
EHR_PATIENT = {"resourceType": "Patient", "id": "ehr-1001", "name": [{"family": "Moreau"}], "birthDate": "2016-01-15",
               "identifier": [{"system": MRN, "value": "MRN-CDS-1"}]}


def myocit(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "myocit.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture()
def screened(rt, api):
    with rt.uow() as uow:
        lab, investigator = (create_token(uow.session, role, ["site-a"], role, rt.clock.now())
                             for role in ("lab", "investigator"))
        uow.commit()
    record = [patient("cds-1", mrn="MRN-CDS-1") if r["resourceType"] == "Patient" else r
              for r in eligible_record("cds-1", DAY)]
    with httpx.Client(timeout=30) as client:
        answer = post_parts(client, {"Authorization": f"Bearer {lab}"}, {"Authorization": f"Bearer {investigator}"},
                            record, url=f"{api}/fhir")
        assert answer.status_code == 202, answer.text

    # Evaluated here, as a worker would (the service's evaluation, in this process): what is tested is the
    # CDS Hooks service of the running API, not the queue.
    from workers import tasks

    with rt.uow() as uow:
        pk = uow.session.scalar(select(Patient.pk).where(Patient.id == "cds-1"))
    tasks.evaluate_patients.run([pk])
    with rt.uow() as uow:
        assert uow.session.scalar(select(Patient.status).where(Patient.pk == pk)) == "eligible"
    return api


@pytest.fixture()
def ehr(service_env):
    running = Ehr()
    said = myocit(service_env, "ehr", "add", "--issuer", running.issuer, "--jwks-url", running.jwks_url,
                  "--fhir-server", running.fhir_server, "--site", "site-a")
    assert said.startswith("ehr 1: ")
    yield running
    running.close()


def test_healthchains_client_gets_the_card_and_the_clinicians_feedback_is_kept(screened, ehr, rt, service_env):
    url = f"{screened}/cds-services/myocit-eligibility"
    answer = send_patient_view(url, "ehr-1001", patient=EHR_PATIENT, authorization=f"Bearer {ehr.token(url)}")
    assert answer.status == 200, answer.body
    assert answer.cds_response_errors is None
    [card] = answer.body["cards"]
    assert (card["summary"], card["indicator"]) == ("MYOCIT: possibly eligible", "warning")
    assert "Moreau" not in str(card) and "2016-01-15" not in str(card) and "MRN-CDS-1" not in str(card)

    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z",
                              "overrideReason": {"reason": card["overrideReasons"][1]}}]}
    told = httpx.post(f"{url}/feedback", json=feedback, headers={"Authorization": f"Bearer {ehr.token(url)}"})
    assert told.status_code == 200 and told.json() == {"recorded": 1}
    with rt.uow() as uow:
        assert uow.session.scalars(select(CdsFeedback.reason)).all() == ["not-appropriate-now"]


def test_without_a_prefetch_the_patient_is_read_from_the_ehrs_fhir_server(screened, ehr):
    url = f"{screened}/cds-services/myocit-eligibility"
    ehr.patients["ehr-1001"] = EHR_PATIENT
    answer = send_patient_view(url, "ehr-1001", authorization=f"Bearer {ehr.token(url)}", fhir_server=ehr.fhir_server)
    assert answer.status == 200 and len(answer.body["cards"]) == 1
    assert any(seen["path"] == "/fhir/Patient/ehr-1001" for seen in ehr.seen)


def test_a_bad_jwt_and_a_removed_ehr_are_refused(screened, ehr, service_env):
    url = f"{screened}/cds-services/myocit-eligibility"
    forged = send_patient_view(url, "ehr-1001", patient=EHR_PATIENT, authorization=f"Bearer {ehr.token(url + '/x')}")
    assert forged.status == 401
    assert "ehr-1001" not in str(forged.body) and "Moreau" not in str(forged.body)
    assert "\tactive" in myocit(service_env, "ehr", "list")
    myocit(service_env, "ehr", "remove", "1")
    removed = send_patient_view(url, "ehr-1001", patient=EHR_PATIENT, authorization=f"Bearer {ehr.token(url)}")
    assert removed.status == 401
