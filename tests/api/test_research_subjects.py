"""ResearchStudy, ResearchSubject and the topic over HTTP (contract §16): the status mapping through the
service, site scoping, paging with ``next`` links, filters; every resource valid R4 (the R4B models)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest
from domain import research
from tests.api.conftest import run_pending
from tests.fhir_hook import valid
from tests.fhir_samples import bundle, consent, eligible_record, immunization, patient
from tests.inprocess import post_record

DAY = date(2026, 12, 1)


def _subject(client, tokens, pid, who="coordinator"):
    answer = client.get(f"/fhir/ResearchSubject/{pid}", headers=tokens[who])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    return valid(answer.json())


def _extension(subject: dict, url: str):
    return next((e for e in subject.get("extension", []) if e["url"] == url), None)


@pytest.fixture()
def children(client, tokens, rt):
    """p-new (registered, never screened), p-cand (eligible), p-wait (waiting for a live vaccine),
    p-inc (incomplete), p-conf (eligible, confirmed), p-enr (enrolled), p-dec (declined), p-cons
    (consent refused), and p-b at site-b."""
    for pid in ("p-cand", "p-conf", "p-enr", "p-dec", "p-cons"):
        assert post_record(client, tokens, eligible_record(pid, DAY)).status_code == 202
    assert post_record(client, tokens, eligible_record("p-wait", DAY)
                       + [immunization("p-wait", "03", "2026-11-20")]).status_code == 202
    assert post_record(client, tokens, [r for r in eligible_record("p-inc", DAY)
                                        if r.get("code", {}).get("coding", [{}])[0].get("code") != "718-7"]
                       ).status_code == 202
    assert post_record(client, tokens, eligible_record("p-b", DAY, site="site-b")).status_code == 202
    run_pending(rt)
    reauth = tokens["investigator"]["Authorization"].split()[1]
    assert client.post("/patients/p-conf/confirmation", json={"as_of": "2026-12-01", "reauth": reauth},
                       headers=tokens["investigator"]).status_code == 201
    for pid, outcome in (("p-enr", "enrolled"), ("p-dec", "declined")):
        assert client.post(f"/patients/{pid}/outcome", json={"outcome": outcome, "reason": "recorded by the test"},
                           headers=tokens["coordinator"]).status_code == 201
    assert client.post("/fhir", json=bundle([consent("p-cons", DAY.isoformat(), "rejected")]),
                       headers=tokens["investigator"]).status_code == 202
    run_pending(rt)
    assert client.post("/fhir/Patient", json=patient("p-new"), headers=tokens["lab"]).status_code == 202


def test_each_child_carries_the_status_of_contract_16(client, tokens, children):
    expected = {"p-new": ("potential-candidate", None), "p-cand": ("candidate", "eligible"),
                "p-wait": ("screening", "waiting"), "p-inc": ("screening", "incomplete"),
                "p-conf": ("eligible", "eligible"), "p-enr": ("on-study", "eligible"),
                "p-dec": ("not-registered", "eligible"), "p-cons": ("not-registered", "ineligible")}
    for pid, (status, eligibility) in expected.items():
        subject = _subject(client, tokens, pid)
        assert (subject["status"], (_extension(subject, research.STATUS_EXTENSION) or {}).get("valueCode")) == (
            status, eligibility), pid
        assert subject["individual"] == {"reference": f"Patient/{pid}"}
        assert subject["study"] == {"reference": "ResearchStudy/myocit"}
        assert "lastUpdated" in subject["meta"]
        assert ("period" in subject) == (pid != "p-new")
    waiting = _subject(client, tokens, "p-wait")
    assert _extension(waiting, research.ELIGIBLE_FROM_EXTENSION) == {"url": research.ELIGIBLE_FROM_EXTENSION,
                                                                      "valueDate": "2026-12-19"}


def test_subjects_are_read_by_their_sites_callers_only(client, tokens, children):
    assert client.get("/fhir/ResearchSubject/p-cand", headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.get("/fhir/ResearchSubject/nobody", headers=tokens["coordinator"]).status_code == 404
    assert client.get("/fhir/ResearchSubject/p-cand", headers=tokens["lab"]).status_code == 403
    assert client.get("/fhir/ResearchSubject/p-cand").status_code == 401
    _subject(client, tokens, "p-b", who="admin")
    _subject(client, tokens, "p-cand", who="investigator")
    seen_b = client.get("/fhir/ResearchSubject", headers=tokens["coordinator-site-b"]).json()
    assert [e["resource"]["id"] for e in seen_b["entry"]] == ["p-b"]
    everyone = client.get("/fhir/ResearchSubject?_count=500", headers=tokens["admin"]).json()
    assert everyone["total"] == 9


def test_a_search_pages_with_next_links_and_filters_by_status_and_last_updated(client, tokens, children):
    url, ids = "/fhir/ResearchSubject?study=ResearchStudy/myocit&_count=3", []
    while url:
        page = valid(client.get(url, headers=tokens["coordinator"]).json())
        assert page["type"] == "searchset" and page["total"] == 8
        ids += [e["resource"]["id"] for e in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = None
        if following:
            parts = urlsplit(following[0])
            url = f"{parts.path}?{parts.query}"
    assert ids == sorted(ids) and len(ids) == 8
    screening = client.get("/fhir/ResearchSubject?status=screening", headers=tokens["coordinator"]).json()
    assert sorted(e["resource"]["id"] for e in screening["entry"]) == ["p-inc", "p-wait"]
    later = client.get("/fhir/ResearchSubject?_lastUpdated=gt2100-01-01T00:00:00Z", headers=tokens["coordinator"])
    assert later.json()["total"] == 0
    earlier = client.get("/fhir/ResearchSubject?_lastUpdated=gt2000-01-01T00:00:00Z", headers=tokens["coordinator"])
    assert earlier.json()["total"] == 7  # all but the child never screened, whose status never changed
    assert client.get("/fhir/ResearchSubject?study=ResearchStudy/other", headers=tokens["coordinator"]).json()[
        "total"] == 0
    assert client.get("/fhir/ResearchSubject?study=https://screening.example.org/fhir/ResearchStudy/myocit",
                      headers=tokens["coordinator"]).json()["total"] == 8
    assert client.get("/fhir/ResearchSubject?_lastUpdated=le2000-01-01T00:00:00Z",
                      headers=tokens["coordinator"]).json()["total"] == 0
    assert client.get("/fhir/ResearchSubject?_lastUpdated=lt2100-01-01T00:00:00%2B01:00",
                      headers=tokens["coordinator"]).json()["total"] == 7
    assert client.get("/fhir/ResearchSubject?_count=100000", headers=tokens["coordinator"]).json()["total"] == 8
    for bad in ("_lastUpdated=eq2026", "_lastUpdated=gt2026-13-01", "_count=0", "_lastUpdated=gt2026-12-01T00:00:00",
                "_lastUpdated=gt9999-01-01T00:00:00Z"):
        assert client.get(f"/fhir/ResearchSubject?{bad}", headers=tokens["coordinator"]).status_code == 400, bad


def test_the_study_and_the_topic(client, tokens):
    study = valid(client.get("/fhir/ResearchStudy/myocit", headers=tokens["coordinator"]).json())
    assert study["identifier"] == [{"system": "https://clinicaltrials.gov", "value": "NCT05524311"}]
    assert study["status"] == "active" and study["phase"]["coding"][0]["code"] == "phase-2"
    assert study["condition"][0]["coding"][0]["code"] == "M33.0" and study["sponsor"]["display"]
    assert client.get("/fhir/ResearchStudy/other", headers=tokens["coordinator"]).status_code == 404
    topic = valid(client.get("/fhir/Basic/eligibility-changed", headers=tokens["coordinator"]).json())
    urls = {e["url"].rsplit(".", 1)[1]: e for e in topic["extension"]}
    assert urls["url"]["valueUri"] == research.TOPIC_URL
    filters = [e for e in topic["extension"] if e["url"].endswith("canFilterBy")]
    assert sorted(next(p["valueString"] for p in f["extension"] if p["url"] == "filterParameter")
                  for f in filters) == ["site", "status"]
