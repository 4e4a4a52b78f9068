"""The screening log and funnel over HTTP (contract §8): a site with children in every status and
outcome, every column checked against each child's own stored screening, counts that add up, site
scoping, and a CSV that carries nothing that identifies a child."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from domain.criteria import ORDER
from service.screening_log import COLUMNS, spreadsheet_safe
from tests.api.conftest import run_pending
from tests.fhir_samples import DETECTED, coded, eligible_record, immunization, patient
from tests.inprocess import post_record

DAY = date(2026, 12, 1)
EQUIVOCAL = "42425007"
NAMES = {"log-ok": "Moreau", "log-wait": "Petit-Lefèvre", "log-todo": "Garnier", "log-review": "Rousseau",
         "log-no": "Fontaine", "log-new": "Chevalier", "log-b": "Lambert"}
BIRTHS = {pid: f"2016-0{i + 1}-1{i}" for i, pid in enumerate(NAMES)}
MRNS = {pid: f"MRN-55{i}019{i}" for i, pid in enumerate(NAMES)}
REASONS = {"log-todo": "family lives abroad for the winter", "log-no": "parents prefer to wait for results"}


def _named(pid: str, record: list[dict], site: str = "site-a") -> list[dict]:
    """The record with a Patient carrying a name, a birth date and a record number."""
    named = patient(pid, birth=BIRTHS[pid], site=site, mrn=MRNS[pid]) | {"name": [{"family": NAMES[pid],
                                                                                   "given": ["Inès"]}]}
    return [named if r["resourceType"] == "Patient" else r for r in record]


def _without(resources, criterion):
    return [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") != criterion]


def _records() -> dict[str, tuple[list[dict], str]]:
    return {
        "log-ok": (eligible_record("log-ok", DAY), "site-a"),
        "log-wait": (eligible_record("log-wait", DAY) + [immunization("log-wait", "03", "2026-11-20")], "site-a"),
        "log-todo": (_without(eligible_record("log-todo", DAY, with_cmv=False), "EXC-SEVERE-JDM"), "site-a"),
        "log-review": ([r for r in eligible_record("log-review", DAY) if r.get("code", {}).get("coding", [{}])[0]
                        .get("code") != "19162-7"] + [coded("log-review", "19162-7", EQUIVOCAL, "2026-12-01")],
                       "site-a"),
        "log-no": (eligible_record("log-no", DAY, with_cmv=False) + [coded("log-no", "4996-5", DETECTED, "2026-11-25")],
                   "site-a"),
        "log-new": (eligible_record("log-new", DAY), "site-a"),
        "log-b": (eligible_record("log-b", DAY, site="site-b"), "site-b"),
    }


OUTCOMES = {"log-ok": "enrolled", "log-wait": "approached", "log-todo": "not-approached", "log-no": "declined",
            "log-b": "approached"}


@pytest.fixture()
def site(client, tokens, rt):
    for pid, (record, where) in _records().items():
        assert post_record(client, tokens, _named(pid, record, where), site=where).status_code == 202
    run_pending(rt)
    for pid, outcome in OUTCOMES.items():
        who = "coordinator-site-b" if pid == "log-b" else "coordinator"
        if pid == "log-ok":  # an earlier outcome, replaced: the latest stands
            assert client.post(f"/patients/{pid}/outcome", json={"outcome": "approached"},
                               headers=tokens[who]).status_code == 201
        answer = client.post(f"/patients/{pid}/outcome", json={"outcome": outcome, "reason": REASONS.get(pid, "")},
                             headers=tokens[who])
        assert answer.status_code == 201, answer.text
    reauth = tokens["investigator"]["Authorization"].split()[1]
    signed = client.post("/patients/log-ok/confirmation", json={"as_of": "2026-12-01", "reauth": reauth},
                         headers=tokens["investigator"])
    assert signed.status_code == 201, signed.text
    return signed.json()


def _stored(client, tokens, pid, who="coordinator"):
    answer = client.get(f"/patients/{pid}/eligibility", headers=tokens[who])
    assert answer.status_code == 200
    return answer.json()


def _csv(client, tokens, who="coordinator", query="", **headers) -> list[dict]:
    answer = client.get(f"/screening-log{query}", headers=tokens[who] | headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(answer.text))
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def test_the_log_has_one_row_per_child_with_every_column_of_its_stored_screening(client, tokens, site):
    rows = {r["patient"]: r for r in _csv(client, tokens)}
    assert sorted(rows) == sorted(pid for pid in NAMES if pid != "log-b")
    for pid, row in rows.items():
        stored = _stored(client, tokens, pid)
        ids = {v: ";".join(c["id"] for c in stored["criteria"] if c["verdict"] == v) for v in ("fail", "unknown", "review")}
        assert row == {
            "patient": pid, "site": "site-a", "first_screened": "2026-12-01", "status": stored["status"],
            "status_since": "2026-12-01", "eligible_from": stored["eligible_from"] or "",
            "failing": ids["fail"], "missing": ids["unknown"], "review": ids["review"],
            "outcome": OUTCOMES.get(pid, ""), "outcome_date": "2026-12-01" if pid in OUTCOMES else "",
            "confirmed_at": site["signed_at"] if pid == "log-ok" else "",
            "protocol_version": stored["protocol_version"], "eligible_until": stored["eligible_until"] or "",
        }
    assert {r["status"] for r in rows.values()} == {"eligible", "waiting", "incomplete", "ineligible"}
    assert rows["log-wait"]["eligible_from"] == "2026-12-19" and rows["log-wait"]["failing"] == "EXC-LIVE-VACCINE"
    # §1.2: the window's last day is the new last column (a child of 10 passes INC-AGE until 18).
    assert COLUMNS[-1] == "eligible_until" and COLUMNS[:-1][-1] == "protocol_version"
    assert rows["log-wait"]["eligible_until"] and rows["log-no"]["eligible_until"] == ""
    assert rows["log-no"]["failing"] == "EXC-CMV-PCR"
    assert rows["log-todo"]["missing"] == "EXC-CMV-PCR;EXC-SEVERE-JDM"
    assert rows["log-review"]["review"] == "INC-VZV-SERO"


def test_json_on_request_carries_the_same_rows(client, tokens, site):
    as_csv = _csv(client, tokens, Accept="text/csv")
    as_json = client.get("/screening-log", headers=tokens["coordinator"] | {"Accept": "application/json"}).json()
    assert [list(r) for r in as_json] == [list(COLUMNS)] * len(as_json)
    assert [{k: ("" if v is None else v) for k, v in r.items()} for r in as_json] == as_csv


def test_the_funnel_adds_up_and_counts_each_criterion_from_the_childrens_verdicts(client, tokens, site):
    funnel = client.get("/funnel", headers=tokens["coordinator"]).json()
    assert (funnel["site"], funnel["from"], funnel["to"]) == ("site-a", None, None)
    assert funnel["screened"] == 6 == sum(funnel[s] for s in ("eligible", "waiting", "incomplete", "ineligible"))
    assert (funnel["eligible"], funnel["waiting"], funnel["incomplete"], funnel["ineligible"]) == (2, 1, 2, 1)
    assert (funnel["confirmed"], funnel["approached"], funnel["declined"], funnel["enrolled"]) == (1, 3, 1, 1)
    assert [c["id"] for c in funnel["criteria"]] == list(ORDER)
    expected = {cid: {"id": cid, "fail": 0, "unknown": 0, "review": 0} for cid in ORDER}
    for pid in NAMES:
        if pid != "log-b":
            for c in _stored(client, tokens, pid)["criteria"]:
                if c["verdict"] != "pass":
                    expected[c["id"]][c["verdict"]] += 1
    assert funnel["criteria"] == list(expected.values())
    assert list(funnel) == ["site", "from", "to", "screened", "eligible", "waiting", "incomplete", "ineligible",
                            "confirmed", "approached", "declined", "enrolled", "criteria"]


def test_each_reader_sees_only_their_sites_and_an_admin_all_or_one(client, tokens, site):
    assert [r["patient"] for r in _csv(client, tokens, "coordinator-site-b")] == ["log-b"]
    assert len(_csv(client, tokens, "investigator")) == 6
    assert len(_csv(client, tokens, "admin")) == 7
    assert [r["patient"] for r in _csv(client, tokens, "admin", "?site=site-b")] == ["log-b"]
    assert client.get("/screening-log?site=site-b", headers=tokens["coordinator"]).status_code == 404
    assert client.get("/funnel?site=site-b", headers=tokens["coordinator"]).status_code == 404
    assert client.get("/screening-log", headers=tokens["lab"]).status_code == 403
    assert client.get("/funnel").status_code == 401
    admin = client.get("/funnel", headers=tokens["admin"]).json()
    assert (admin["site"], admin["screened"], admin["approached"]) == (None, 7, 4)


def test_the_period_is_the_first_screening_day(client, tokens, site):
    assert len(_csv(client, tokens, query="?from=2026-12-01&to=2026-12-01")) == 6
    assert _csv(client, tokens, query="?from=2026-12-02") == []
    assert _csv(client, tokens, query="?to=2026-11-30") == []
    funnel = client.get("/funnel?from=2026-12-02", headers=tokens["coordinator"]).json()
    assert (funnel["from"], funnel["screened"], funnel["criteria"][0]) == (
        "2026-12-02", 0, {"id": "INC-AGE", "fail": 0, "unknown": 0, "review": 0})
    assert client.get("/screening-log?from=yesterday", headers=tokens["coordinator"]).status_code == 400


def test_no_name_birth_date_record_number_or_free_text_is_in_the_log(client, tokens, site):
    text = client.get("/screening-log", headers=tokens["admin"]).text
    for value in [*NAMES.values(), *BIRTHS.values(), *MRNS.values(), *REASONS.values(), "Inès"]:
        assert value not in text
    assert "2016" not in text


def test_an_outcome_needs_a_known_value_and_a_reason_when_declined_or_not_approached(client, tokens, site):
    post = lambda body, who="coordinator": client.post("/patients/log-new/outcome", json=body, headers=tokens[who])
    assert post({"outcome": "declined"}).status_code == 400
    assert post({"outcome": "not-approached", "reason": "  "}).status_code == 400
    assert post({"outcome": "maybe"}).status_code == 400
    assert post({"outcome": 3}).status_code == 400
    assert post({"outcome": "approached"}, "coordinator-site-b").status_code == 404
    assert post({"outcome": "approached"}, "lab").status_code == 403
    recorded = post({"outcome": "approached"}, "investigator")
    assert recorded.status_code == 201
    assert recorded.json()["recorded_by"] == "investigator" and recorded.json()["outcome_date"] == "2026-12-01"
    assert post({"outcome": "enrolled"}, "admin").status_code == 201
    rows = {r["patient"]: r for r in _csv(client, tokens)}
    assert rows["log-new"]["outcome"] == "enrolled"


def test_the_command_writes_the_same_csv(client, tokens, rt, site, tmp_path):
    from testkit import cli

    env = {"MYOCIT_HOME": str(tmp_path), "MYOCIT_TODAY": "2026-12-01"}
    run = lambda *args: cli.myocit("screening-log", *args, env=env)
    everything = run()
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout == client.get("/screening-log", headers=tokens["admin"]).text.replace("\r\n", "\n")
    one = run("--site", "site-b", "--from", "2026-12-01", "--to", "2026-12-01")
    assert one.stdout == client.get("/screening-log?site=site-b&from=2026-12-01&to=2026-12-01",
                                    headers=tokens["admin"]).text.replace("\r\n", "\n")
    assert run("--from", "2026-12-02").stdout.splitlines() == [",".join(COLUMNS)]
    bad = run("--from", "soon")
    assert bad.returncode == 2 and "--from" in bad.stderr


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+33", "'+33"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("log-ok", "log-ok"), ("", ""), (None, ""), ("2026-12-01", "2026-12-01")],
)
def test_a_cell_a_spreadsheet_would_run_is_prefixed_with_a_quote(cell, written):
    assert spreadsheet_safe(cell) == written


def test_a_patient_id_starting_with_a_minus_is_written_so_no_spreadsheet_runs_it(client, tokens, rt):
    pid = "-1-cmd"
    assert post_record(client, tokens, eligible_record(pid, DAY), site="site-a").status_code == 202
    run_pending(rt)
    rows = _csv(client, tokens)
    assert [r["patient"] for r in rows] == ["'" + pid]
