"""Contract §1.1 over HTTP: the same readings as `myocit screen`, on stored data."""

from __future__ import annotations

from datetime import date

from tests.fhir_samples import NEGATIVE, POSITIVE, bundle, coded, eligible_record, quantity
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)


def _without(resources: list[dict], loinc: str) -> list[dict]:
    return [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") != loinc]


def _criterion(client, tokens, pid: str, cid: str) -> dict:
    result = client.get(f"/patients/{pid}/eligibility", headers=tokens["coordinator"]).json()
    return next(c for c in result["criteria"] if c["id"] == cid)


def test_a_comparator_that_allows_the_threshold_is_review_over_http(client, tokens, rt):
    post_record(client, tokens, _without(eligible_record("p-cmp", DAY), "26474-7")
                + [quantity("p-cmp", "26474-7", 1.8, "10*9/L", "2026-11-20")])
    run_pending(rt)
    assert _criterion(client, tokens, "p-cmp", "EXC-ALC")["verdict"] == "pass"
    lymphocytes = quantity("p-cmp", "26474-7", 0.5, "10*9/L", "2026-11-30")
    lymphocytes["valueQuantity"]["comparator"] = "<="
    assert client.post("/fhir", json=bundle([lymphocytes], "batch"), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    alc = _criterion(client, tokens, "p-cmp", "EXC-ALC")
    assert alc["verdict"] == "review"
    assert "up to and including 0.5" in alc["reason"]


def test_a_negative_vzv_igg_after_a_positive_names_both_over_http(client, tokens, rt):
    record = _without(eligible_record("p-vzv", DAY), "19162-7")
    post_record(client, tokens, record + [coded("p-vzv", "19162-7", POSITIVE, "2024-03-05")])
    run_pending(rt)
    assert _criterion(client, tokens, "p-vzv", "INC-VZV-SERO")["verdict"] == "pass"
    negative = coded("p-vzv", "19162-7", NEGATIVE, "2026-11-21")
    assert client.post("/fhir", json=bundle([negative], "batch"), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    vzv = _criterion(client, tokens, "p-vzv", "INC-VZV-SERO")
    assert vzv["verdict"] == "fail"
    assert "2026-11-21" in vzv["reason"] and "2024-03-05" in vzv["reason"]
