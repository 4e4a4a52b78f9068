"""Investigators obtain consent: they post Consent for the children of their sites (contract §13 keeps
them from posting lab data or Patients, and from another site's child)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from store.models import Message
from tests.fhir_samples import DETECTED, bundle, coded, consent, eligible_record, patient
from tests.inprocess import post_record, run_pending

DAY = "2026-12-01"


def _criterion(client, tokens, pid: str, cid: str) -> dict:
    answer = client.get(f"/patients/{pid}/eligibility", headers=tokens["coordinator"])
    assert answer.status_code == 200, answer.text
    return next(c for c in answer.json()["criteria"] if c["id"] == cid)


def _messages(rt) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Message))


def test_an_investigator_posts_consent_for_a_child_of_their_site(client, tokens, rt):
    record = [r for r in eligible_record("p-consent", date(2026, 12, 1))
              if r["resourceType"] != "Consent"]
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    assert _criterion(client, tokens, "p-consent", "INC-CONSENT")["verdict"] == "unknown"
    as_bundle = client.post("/fhir", json=bundle([consent("p-consent", DAY)]), headers=tokens["investigator"])
    assert as_bundle.status_code == 202, as_bundle.text
    alone = client.post("/fhir/Consent", json=consent("p-consent", DAY), headers=tokens["investigator"])
    assert alone.status_code == 202, alone.text
    run_pending(rt)
    assert _criterion(client, tokens, "p-consent", "INC-CONSENT")["verdict"] == "pass"


def test_an_investigator_posts_no_consent_for_another_sites_child_and_no_lab_data(client, tokens, rt):
    assert client.post("/fhir", json=bundle([patient("p-b", site="site-b")]),
                       headers=tokens["lab-site-b"]).status_code == 202
    assert client.post("/fhir", json=bundle([patient("p-a")]), headers=tokens["lab"]).status_code == 202
    before = _messages(rt)
    elsewhere = client.post("/fhir/Consent", json=consent("p-b", DAY), headers=tokens["investigator"])
    assert elsewhere.status_code == 403 and elsewhere.json()["resourceType"] == "OperationOutcome"
    result = client.post("/fhir/Observation", json=coded("p-a", "4996-5", DETECTED, DAY),
                         headers=tokens["investigator"])
    assert result.status_code == 403
    assert _messages(rt) == before
