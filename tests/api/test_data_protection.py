"""Data protection over HTTP (contract §17), on the embedded SQLite store: an objection erases
everything identifiable about the child (searched for in every table and in the database file), later
data for it is acknowledged and dropped on every intake path while other children's parts are kept,
a purge keeps enrolled children and the log rows, a monitor reads pseudonyms only and is refused
everywhere else, and the audit export covers every kind of action and cannot be changed."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bootstrap import Runtime
from domain.privacy import Keyring
from service import data_protection, imports
from service.commands import ImportResources, PurgeExpired
from store.models import AuditEntry, ErasedChild, Fact, Message, Patient
from testkit.dbsearch import occurrences
from testkit.fhir_samples import bundle, coded, eligible_record, patient, quantity
from tests.api.conftest import run_pending
from tests.inprocess import bearer, make_tokens, post_record

DAY = date(2026, 12, 1)
CHILD, OTHER = "dp-child-7", "dp-other-3"
MRN, OTHER_MRN = "MRN-7730451", "MRN-3318820"
BIRTH, OTHER_BIRTH = "2013-02-17", "2014-09-23"
FAMILY = "Delacroix-Ybarra"


def named(pid: str, birth: str, mrn: str, family: str) -> dict:
    return patient(pid, birth=birth, mrn=mrn) | {"name": [{"family": family, "given": ["Anaïs"]}]}


def record(pid: str, birth: str, mrn: str, family: str) -> list[dict]:
    return [named(pid, birth, mrn, family) if r["resourceType"] == "Patient" else r for r in eligible_record(pid, DAY)]


def needles() -> list[str]:
    return [CHILD, MRN, BIRTH, FAMILY]


@pytest.fixture()
def world(client, tokens, rt):
    """Two children of site-a, each with a full record, and one bundle holding both."""
    for pid, birth, mrn, family in ((CHILD, BIRTH, MRN, FAMILY), (OTHER, OTHER_BIRTH, OTHER_MRN, "Martin")):
        assert post_record(client, tokens, record(pid, birth, mrn, family)).status_code == 202
    both = [quantity(CHILD, "26499-4", 3.9, "G/L", "2026-11-30"), quantity(OTHER, "26499-4", 4.4, "G/L", "2026-11-30")]
    assert client.post("/fhir", json=bundle(both, "batch"), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    response = client.post(f"/patients/{CHILD}/outcome", json={"outcome": "approached"}, headers=tokens["coordinator"])
    assert response.status_code == 201
    assert client.get(f"/patients/{CHILD}/eligibility", headers=tokens["coordinator"]).status_code == 200
    return tokens


def sign_in(client, headers: dict):
    form = client.get("/ui/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/ui/login", data={"token": headers["Authorization"].split()[1], "csrf": csrf},
                       follow_redirects=False)


def signed_in(client, headers: dict):
    assert sign_in(client, headers).status_code == 303
    return client


def objected(client, tokens) -> dict:
    response = client.post(f"/patients/{CHILD}/objection", json={"reason": f"the family {FAMILY} objects"},
                           headers=tokens["coordinator"])
    assert response.status_code == 200, response.text
    return response.json()


def test_an_objection_erases_everything_identifiable_and_keeps_the_other_childs_part(client, world, rt):
    assert occurrences(rt.engine, needles())
    done = objected(client, world)
    assert done["status"] == "objected" and re.fullmatch(r"s-[0-9a-f]{12}", done["screening_id"])
    assert occurrences(rt.engine, needles()) == []
    if rt.settings.embedded:
        # Nothing on disk either: deleted pages are overwritten, the write-ahead log truncated.
        raw = (rt.settings.home / "myocit.sqlite").read_bytes()
        wal = rt.settings.home / "myocit.sqlite-wal"
        raw += wal.read_bytes() if wal.exists() else b""
        assert not [n for n in needles() if n.encode() in raw]
    for url in (f"/patients/{CHILD}/eligibility", f"/patients/{CHILD}/confirmation"):
        assert client.get(url, headers=world["coordinator"]).status_code == 404
    assert client.post(f"/patients/{CHILD}/objection", json={}, headers=world["coordinator"]).status_code == 404
    # The other child keeps everything, including its part of the message it shared.
    assert client.get(f"/patients/{OTHER}/eligibility", headers=world["coordinator"]).status_code == 200
    with rt.uow() as uow:
        shared = [m for m in uow.session.scalars(select(Message.body)) if OTHER in m and "4.4" in m]
        assert shared
    page = signed_in(client, world["coordinator"]).get("/ui/screening-log")
    assert page.status_code == 200 and "objected" in page.text and CHILD not in page.text
    log = client.get("/screening-log", headers=world["coordinator"] | {"Accept": "application/json"}).json()
    row = next(r for r in log if r["status"] == "objected")
    assert row["patient"] == done["screening_id"]
    assert [k for k, v in row.items() if v not in (None, "")] == ["patient", "site", "status"]


def _hl7(pid3: str, control: str) -> str:
    lines = [f"MSH|^~\\&|LIS|LAB|MYOCIT|HOSP|20261201083000||ORU^R01|{control}|P|2.5.1", f"PID|||{pid3}",
             "OBR|1||ORD-1|||20261130080000", "OBX|1|NM|26499-4^Neutrophils^LN||0.3|10*9/L|||||F|||20261130080000"]
    return "\r".join(lines) + "\r"


def test_later_data_for_the_child_is_acknowledged_and_dropped_on_every_path(client, world, rt, tmp_path):
    objected(client, world)
    lab = world["lab"]
    facts_before = _count(rt, Fact)
    # FHIR: a Patient again, a result alone, a bundle with both children.
    assert client.post("/fhir", json=bundle([named(CHILD, BIRTH, MRN, FAMILY)]), headers=lab).status_code == 202
    single = quantity(CHILD, "26499-4", 2.2, "G/L", "2026-12-01")
    assert client.post("/fhir/Observation", json=single, headers=lab).status_code in (200, 201, 202)
    mixed = [quantity(CHILD, "718-7", 11.0, "g/dL", "2026-12-01"), quantity(OTHER, "718-7", 12.5, "g/dL", "2026-12-01")]
    assert client.post("/fhir", json=bundle(mixed, "batch"), headers=lab).status_code == 202
    # HL7 v2 over HTTP (MLLP takes the same path): by the record number without an authority, and by id.
    for control, pid3 in (("DP-1", MRN), ("DP-2", CHILD)):
        answer = client.post("/hl7v2", content=_hl7(pid3, control).encode(),
                             headers=lab | {"Content-Type": "x-application/hl7-v2+er7"})
        assert answer.status_code in (200, 202) and "MSA|AA" in answer.text, answer.text
    # The initial load.
    load = tmp_path / "load.json"
    load.write_text(json.dumps(bundle([named(CHILD, BIRTH, MRN, FAMILY)], "collection")))
    imports.import_resources(ImportResources((load,), "site-a"), rt.uow(), clock=rt.clock,
                             dispatch=rt.dispatch, protocol=rt.protocol)
    load.unlink()
    # The pages: the child is gone, so an investigator's attestation finds no one.
    assert client.get(f"/patients/{CHILD}/eligibility", headers=world["investigator"]).status_code == 404
    run_pending(rt)
    assert occurrences(rt.engine, needles()) == []
    assert _count(rt, Fact) == facts_before + 1     # the other child's haemoglobin
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Patient).where(Patient.id == CHILD)) == 0


def later_runtime(rt) -> Runtime:
    """The same service two and a half years on (``MYOCIT_TODAY`` moved)."""
    return Runtime(rt.settings.model_copy(update={"today": date(2029, 6, 1)}), celery=rt.celery)


def _count(rt, model) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_a_purge_keeps_enrolled_children_and_every_log_row(client, world, rt, tmp_path):
    assert client.post(f"/patients/{OTHER}/outcome", json={"outcome": "enrolled"},
                       headers=world["coordinator"]).status_code == 201
    before = client.get("/screening-log", headers=world["coordinator"] | {"Accept": "application/json"}).json()
    later = later_runtime(rt)
    try:
        dry = data_protection.purge(PurgeExpired("test", 730, dry_run=True), later.uow(), clock=later.clock)
        assert dry["children"] == 1
        done = data_protection.purge(PurgeExpired("test", 730), later.uow(), clock=later.clock)
        assert done["children"] == 1
        assert data_protection.purge(PurgeExpired("test", 730), later.uow(), clock=later.clock)["children"] == 0
    finally:
        later.dispose()
    assert occurrences(rt.engine, needles()) == []
    after = client.get("/screening-log", headers=world["coordinator"] | {"Accept": "application/json"}).json()
    assert len(after) == len(before)
    purged = next(r for r in after if r["patient"] == "")
    kept = next(r for r in before if r["patient"] == CHILD)
    assert purged["status"] == kept["status"] and purged["outcome"] == "approached"
    assert purged["first_screened"] == kept["first_screened"][:7]
    assert any(r["patient"] == OTHER for r in after)
    purges = client.get("/purges", headers=world["admin"]).json()
    assert [p["children"] for p in purges] == [1, 0]
    assert CHILD not in json.dumps(purges)
    assert client.get("/purges", headers=world["coordinator"]).status_code == 403


def test_a_monitor_reads_pseudonyms_of_its_sites_and_nothing_else(client, world, rt):
    monitor = bearer(make_tokens(rt, [("monitor", "site-a")])["monitor"])
    log = client.get("/screening-log", headers=monitor | {"Accept": "application/json"})
    assert log.status_code == 200
    rows = log.json()
    keyring = Keyring(rt.settings.resolved_pseudonym_key())
    assert sorted(r["patient"] for r in rows) == sorted(keyring.pseudonym("site-a", p) for p in (CHILD, OTHER))
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["patient"]) for r in rows)
    csv_text = client.get("/screening-log", headers=monitor).text
    assert CHILD not in csv_text and OTHER not in csv_text and MRN not in csv_text
    assert client.get("/screening-log", headers=monitor).text == csv_text      # stable across exports
    assert client.get("/funnel", headers=monitor).json()["screened"] == 2
    assert client.get("/screening-log?site=site-b", headers=monitor).status_code == 404
    assert client.get(f"/fhir/Patient/{CHILD}", headers=monitor).status_code in (403, 404, 405)
    for url in (f"/patients/{CHILD}/eligibility", "/alerts", "/audit", "/purges",
                f"/patients/{CHILD}/confirmation", "/status", "/deliveries", "/subscriptions"):
        assert client.get(url, headers=monitor).status_code == 403, url
    assert client.post(f"/patients/{CHILD}/objection", json={}, headers=monitor).status_code == 403
    refused = sign_in(client, monitor)
    assert refused.status_code == 403 and "not open to monitors" in refused.text, refused.text


def test_the_audit_export_covers_every_kind_of_action_and_rows_cannot_change(client, world, rt):
    assert client.get("/screening-log", headers=world["coordinator"]).status_code == 200
    done = objected(client, world)
    later = later_runtime(rt)
    try:
        data_protection.purge(PurgeExpired("scheduler", 730), later.uow(), clock=later.clock)
    finally:
        later.dispose()
    exported = client.get("/audit", headers=world["admin"])
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    actions = {r["action"] for r in rows}
    assert {"post", "view", "outcome-approached", "objection", "purge", "view-screening-log"} <= actions
    assert all(CHILD not in json.dumps(r) and OTHER not in json.dumps(r) for r in rows)
    as_json = client.get("/audit", headers=world["admin"] | {"Accept": "application/json"}).json()
    assert len(as_json) >= len(rows)
    mine = client.get(f"/audit?patient={done['screening_id']}", headers=world["admin"]
                      | {"Accept": "application/json"}).json()
    assert {r["action"] for r in mine} >= {"view", "outcome-approached", "objection"}
    assert all(r["screening_id"] == done["screening_id"] for r in mine)
    objection = next(r for r in mine if r["action"] == "objection")
    assert re.fullmatch(r"token \d+ \(coordinator\)", objection["actor"]) and objection["role"] == "coordinator"
    assert client.get("/audit?actor=nobody-at-all", headers=world["admin"]
                      | {"Accept": "application/json"}).json() == []
    assert client.get("/audit?from=2199-01-01", headers=world["admin"] | {"Accept": "application/json"}).json() == []
    assert client.get("/audit?from=yesterday", headers=world["admin"]).status_code == 400
    assert client.get("/audit", headers=world["coordinator"]).status_code == 403
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), rt.engine.begin() as conn:
            conn.execute(text(statement))
    assert _count(rt, AuditEntry) >= len(rows)
    assert _count(rt, ErasedChild) == 2


_LATER = st.sampled_from(["patient", "by-id", "by-mrn", "beside-other", "hl7-mrn", "hl7-id"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(later=st.lists(_LATER, min_size=1, max_size=4), value=st.floats(0.1, 20, allow_nan=False).map(lambda v: round(v, 2)))
def test_no_row_written_after_an_objection_mentions_the_child(client, world, rt, later, value):
    """Property: whatever later data names the objected child, in whatever mix, no table keeps it."""
    if occurrences(rt.engine, [MRN]):      # the first example records the objection
        objected(client, world)
    lab = world["lab"]
    for n, kind in enumerate(later):
        day = "2026-12-01"
        if kind == "patient":
            body = bundle([named(CHILD, BIRTH, MRN, FAMILY)])
        elif kind == "by-id":
            body = bundle([quantity(CHILD, "26499-4", value, "G/L", day)], "batch")
        elif kind == "by-mrn":
            observation = quantity(CHILD, "26499-4", value, "G/L", day)
            observation["subject"] = {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": MRN}}
            body = bundle([observation], "batch")
        elif kind == "beside-other":
            body = bundle([quantity(CHILD, "718-7", value, "g/dL", day), quantity(OTHER, "718-7", value, "g/dL", day)],
                          "batch")
        else:
            pid3 = MRN if kind == "hl7-mrn" else CHILD
            answer = client.post("/hl7v2", content=_hl7(pid3, f"P-{value}-{n}-{kind}").replace("0.3", str(value))
                                 .encode(), headers=lab | {"Content-Type": "x-application/hl7-v2+er7"})
            assert answer.status_code in (200, 202), answer.text
            continue
        assert client.post("/fhir", json=body, headers=lab).status_code == 202
    run_pending(rt)
    assert occurrences(rt.engine, needles()) == []
