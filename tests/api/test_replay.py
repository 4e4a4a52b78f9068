"""Contract §11: what was known when. A result, then its correction: ``known_at`` between them gives
the first verdict, after them the second; an alert is replayed exactly from the facts it used."""

from __future__ import annotations

import pytest

from datetime import date, datetime, timezone

from sqlalchemy import select

from domain import PatientRecord, evaluate
from store import codec
from store.models import Patient
from store.screening import profile_of
from tests.fhir_samples import bundle, eligible_record, quantity
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)


def hb_record(pid: str) -> list[dict]:
    return [r for r in eligible_record(pid, DAY) if not (r["resourceType"] == "Observation"
                                                         and r["code"]["coding"][0]["code"] == "718-7")]


def posted_then_corrected(client, tokens, rt, pid: str = "p-replay") -> tuple[datetime, datetime]:
    post_record(client, tokens, hb_record(pid) + [quantity(pid, "718-7", 12.1, "g/dL", "2026-11-30", oid="hb-1")])
    run_pending(rt)
    between = datetime.now(timezone.utc)
    corrected = quantity(pid, "718-7", 7.1, "g/dL", "2026-11-30", oid="hb-1", status="corrected")
    assert client.post("/fhir", json=bundle([corrected], "batch"), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    return between, datetime.now(timezone.utc)


def test_known_at_between_a_result_and_its_correction_gives_the_first_verdict(client, tokens, rt):
    between, after = posted_then_corrected(client, tokens, rt)
    url = "/patients/p-replay/eligibility"
    first = client.get(url, params={"as_of": "2026-12-01", "known_at": between.isoformat()},
                       headers=tokens["coordinator"]).json()
    second = client.get(url, params={"as_of": "2026-12-01", "known_at": after.isoformat()},
                        headers=tokens["coordinator"]).json()
    hb = {r["id"]: r for r in first["criteria"]}["EXC-HB"]
    assert (first["status"], hb["verdict"], first["stored"]) == ("eligible", "pass", False)
    assert (second["status"], {r["id"]: r for r in second["criteria"]}["EXC-HB"]["verdict"]) == ("ineligible", "fail")
    before_all = client.get(url, params={"as_of": "2026-12-01", "known_at": "2000-01-01T00:00:00+00:00"},
                            headers=tokens["coordinator"]).json()
    assert before_all["status"] == "incomplete"  # nothing was known yet


def test_known_at_must_be_a_timestamp_with_offset_within_1900_2200(client, tokens, rt):
    posted_then_corrected(client, tokens, rt)
    url = "/patients/p-replay/eligibility"
    for bad in ("2026-12-01T10:00:00", "yesterday", "1899-12-31T23:00:00+00:00", "2201-01-01T00:00:00Z"):
        assert client.get(url, params={"known_at": bad}, headers=tokens["coordinator"]).status_code == 400, bad
    other_site = client.get(url, params={"known_at": "2026-12-01T10:00:00+01:00"},
                            headers=tokens["coordinator-site-b"])
    assert other_site.status_code == 404


@pytest.mark.parametrize("edge", ["2200-12-31T23:30:00-05:00", "1900-01-01T00:10:00+14:00",
                                  "2200-12-31T23:59:59.999999-23:59", "1900-01-01T00:00:00+23:59"])
def test_known_at_without_as_of_whose_day_at_the_sites_falls_outside_1900_2200_gets_400(client, tokens, rt, edge):
    posted_then_corrected(client, tokens, rt)
    answer = client.get("/patients/p-replay/eligibility", params={"known_at": edge}, headers=tokens["coordinator"])
    assert answer.status_code == 400, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"


def test_an_alert_is_answered_with_its_screening_and_reproduced_exactly_from_its_facts(client, tokens, rt):
    posted_then_corrected(client, tokens, rt)
    listed = client.get("/alerts", headers=tokens["coordinator"]).json()
    # The new candidate's first alert (§5), then the change the correction caused.
    assert [a["from_status"] for a in listed] == [None, "eligible"]
    listed = listed[1:]
    shown = client.get(f"/alerts/{listed[0]['id']}", headers=tokens["coordinator"])
    assert shown.status_code == 200
    body = shown.json()
    assert {k: body[k] for k in listed[0]} == listed[0]
    screening = body["screening"]
    assert (screening["status"], body["to_status"]) == ("ineligible", "ineligible")
    assert all(datetime.fromisoformat(f["received_at"]).utcoffset() is not None for f in body["facts"])
    assert "Observation/hb-1" in {f["resource"] for f in body["facts"]}
    facts = [codec.load(f["kind"], f["payload"], revision=f["revision"]) for f in body["facts"]]
    with rt.uow() as uow:
        profile = profile_of(uow.session.scalar(select(Patient).where(Patient.id == "p-replay")))
    again = evaluate(PatientRecord.build("p-replay", profile, facts, rt.protocol), rt.protocol,
                     date.fromisoformat(screening["as_of"])).to_json()
    assert again == {k: v for k, v in screening.items() if k not in ("screened_at", "trigger", "stored")}
    assert client.get(f"/alerts/{listed[0]['id']}", headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.get("/alerts/999999", headers=tokens["coordinator"]).status_code == 404
    assert client.get(f"/alerts/{listed[0]['id']}", headers=tokens["lab"]).status_code == 403
