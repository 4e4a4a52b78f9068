"""The window of opportunity over HTTP (contract §1.2, §3, §8) and the new candidate's alert (§5)."""

from __future__ import annotations

import csv
import io
from datetime import date

from tests.fhir_samples import DETECTED, coded, corticosteroid, eligible_record, immunization, quantity
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)


def on_prednisolone(pid: str) -> list[dict]:
    """Eligible on 1 December; prednisolone first started 15 November passes until 16 December."""
    return eligible_record(pid, DAY) + [corticosteroid(pid, "H02AB06", 60, "2026-11-15"),
                                        quantity(pid, "29463-7", 30, "kg", "2026-12-01")]


def test_the_stored_result_says_when_the_window_closes_and_which_pass_closes_it(client, tokens, rt):
    assert post_record(client, tokens, on_prednisolone("w-1")).status_code == 202
    run_pending(rt)
    body = client.get("/patients/w-1/eligibility", headers=tokens["coordinator"]).json()
    assert (body["status"], body["eligible_until"]) == ("eligible", "2026-12-16")
    by_id = {c["id"]: c for c in body["criteria"]}
    assert by_id["EXC-PRIOR-CS"]["passes_until"] == "2026-12-16"
    assert body["next_review_at"] <= "2026-12-17"
    computed = client.get("/patients/w-1/eligibility?as_of=2026-12-17", headers=tokens["coordinator"]).json()
    assert (computed["status"], computed["eligible_until"]) == ("ineligible", None)


def test_a_waiting_child_whose_window_closes_first_is_ineligible_and_raises_no_alert(client, tokens, rt):
    record = on_prednisolone("w-2") + [immunization("w-2", "03", "2026-11-26")]  # lifts on 2026-12-25
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    body = client.get("/patients/w-2/eligibility", headers=tokens["coordinator"]).json()
    assert (body["status"], body["eligible_from"], body["eligible_until"]) == ("ineligible", None, None)
    vaccine = next(c for c in body["criteria"] if c["id"] == "EXC-LIVE-VACCINE")
    assert "the window closes first: EXC-PRIOR-CS passes only until 2026-12-16" in vaccine["reason"]
    assert client.get("/alerts", headers=tokens["coordinator"]).json() == []


def test_a_first_screening_raises_one_alert_only_for_a_new_candidate(client, tokens, rt):
    assert post_record(client, tokens, eligible_record("n-eligible", DAY)).status_code == 202
    assert post_record(client, tokens, eligible_record("n-waiting", DAY)
                       + [immunization("n-waiting", "03", "2026-11-20")]).status_code == 202
    incomplete = eligible_record("n-incomplete", DAY, with_cmv=False)
    assert post_record(client, tokens, incomplete).status_code == 202
    assert post_record(client, tokens, eligible_record("n-ineligible", DAY, with_cmv=False)
                       + [coded("n-ineligible", "4996-5", DETECTED, "2026-11-30")]).status_code == 202
    run_pending(rt)
    alerts = client.get("/alerts", headers=tokens["coordinator"]).json()
    assert sorted((a["patient"], a["from_status"], a["to_status"], a["changed"]) for a in alerts) == [
        ("n-eligible", None, "eligible", []), ("n-waiting", None, "waiting", [])]
    # A re-screening with nothing new raises nothing more.
    again = [quantity("n-eligible", "718-7", 12.0, "g/dL", "2026-12-01")]
    assert post_record(client, tokens, again).status_code == 202
    run_pending(rt)
    assert len(client.get("/alerts", headers=tokens["coordinator"]).json()) == 2


def test_the_screening_log_ends_with_eligible_until(client, tokens, rt):
    assert post_record(client, tokens, on_prednisolone("w-log")).status_code == 202
    run_pending(rt)
    answer = client.get("/screening-log", headers=tokens["coordinator"])
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert answer.text.splitlines()[0].endswith(",protocol_version,eligible_until")
    assert [(r["patient"], r["eligible_until"]) for r in rows] == [("w-log", "2026-12-16")]
