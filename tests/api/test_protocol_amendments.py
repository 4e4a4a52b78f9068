"""Contract §10: a test amendment (the shipped version copied, the haemoglobin threshold and the
live-vaccine window changed): its diff, whom a shadow run moves (nothing stored, no alert), and its
activation (everyone re-screened, one alert per child whose status changes, stamped with the trigger
and the version)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from config.protocol_files import PROTOCOLS_DIR
from service import amendments, schedule
from service.commands import ActivateProtocol, ShadowAmendment, SweepStalledWork
from store.models import Alert, AuditEntry, Patient, ScreeningRow
from testkit import cli
from tests.fhir_samples import DETECTED, coded, eligible_record, immunization, quantity
from tests.inprocess import post_record, run_pending

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 1)
NAME = "myocit-2027-01"


def amendment(folder: Path) -> Path:
    """The shipped version with haemoglobin < 10 g/dL (was 8) and a 42-day live-vaccine window (was 28)."""
    target = folder / NAME
    shutil.copytree(PROTOCOLS_DIR / "myocit-2026-11", target)
    main = target / "protocol.yaml"
    text = main.read_text()
    for old, new in (('version: "2026-11"', 'version: "2027-01"'),
                     ("haemoglobin_below_g_dl: 8.0", "haemoglobin_below_g_dl: 10.0"),
                     ("live_vaccine: 28", "live_vaccine: 42")):
        assert old in text
        text = text.replace(old, new)
    main.write_text(text)
    return target


def myocit(home: Path, *args: str, **env) -> cli.Done:
    return cli.myocit(*args, env={"MYOCIT_HOME": str(home), "MYOCIT_TODAY": DAY.isoformat(), **env})


def child(pid: str, *, hb: float = 12.1, vaccinated_days_before: int | None = None, cmv: bool = False):
    record = [r for r in eligible_record(pid, DAY) if not (r["resourceType"] == "Observation"
                                                           and r["code"]["coding"][0]["code"] == "718-7")]
    record.append(quantity(pid, "718-7", hb, "g/dL", DAY.isoformat()))
    if vaccinated_days_before is not None:
        record.append(immunization(pid, "03", (DAY - timedelta(days=vaccinated_days_before)).isoformat()))
    if cmv:
        record.append(coded(pid, "4996-5", DETECTED, DAY.isoformat()))
    return record


# What each child is, and what the amendment does to it, worked out by hand from the two versions.
CHILDREN = {
    "c-plain": {},                                       # eligible under both
    "c-hb-9": {"hb": 9.0},                               # 9 ≥ 8 passes; 9 < 10 fails
    "c-vax-35": {"vaccinated_days_before": 35},          # outside 28 days, inside 42: waiting until +43
    "c-both": {"hb": 9.5, "vaccinated_days_before": 30},
    "c-vax-50": {"vaccinated_days_before": 50},          # outside both windows
    "c-hb-7": {"hb": 7.0},                               # fails under both
    "c-hb-9-cmv": {"hb": 9.0, "cmv": True},              # ineligible under both: its status does not move
}
EXPECTED = {
    "c-hb-9": ("eligible", "ineligible", [("EXC-HB", "pass", "fail")]),
    "c-vax-35": ("eligible", "waiting", [("EXC-LIVE-VACCINE", "pass", "fail")]),
    "c-both": ("eligible", "ineligible", [("EXC-LIVE-VACCINE", "pass", "fail"), ("EXC-HB", "pass", "fail")]),
}


def registered(client, tokens, rt):
    for pid, spec in CHILDREN.items():
        assert post_record(client, tokens, child(pid, **spec)).status_code == 202
    run_pending(rt)


def counts(rt) -> tuple[int, int]:
    with rt.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(ScreeningRow)),
                uow.session.scalar(select(func.count()).select_from(Alert)))


def test_diff_prints_exactly_the_two_changes(tmp_path, rt):
    draft = amendment(tmp_path / "drafts")
    shown = myocit(tmp_path, "protocol", "diff", "myocit-2026-11", str(draft))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1:] == ["  thresholds.haemoglobin_below_g_dl: 8.0 → 10.0", "  windows.live_vaccine: 28 → 42"]
    assert "2 change(s)" in lines[0]


def test_versions_are_found_in_myocit_protocols_and_a_broken_one_names_file_and_key(tmp_path, rt):
    installed = tmp_path / "installed"
    amendment(installed)
    broken = installed / "myocit-broken"
    shutil.copytree(PROTOCOLS_DIR / "myocit-2026-11", broken)
    text = (broken / "protocol.yaml").read_text().replace("  live_vaccine: 28\n", "")
    (broken / "protocol.yaml").write_text(text)
    listed = myocit(tmp_path, "protocol", "list", MYOCIT_PROTOCOLS=str(installed))
    assert listed.returncode == 0, listed.stderr
    assert "* myocit-2026-11" in listed.stdout and f"  {NAME}\tversion 2027-01" in listed.stdout
    assert "myocit-broken/protocol.yaml: windows.live_vaccine: required key missing" in listed.stdout
    refused = myocit(tmp_path, "protocol", "diff", "myocit-2026-11", "myocit-broken", MYOCIT_PROTOCOLS=str(installed))
    assert refused.returncode == 2
    assert "myocit-broken/protocol.yaml: windows.live_vaccine: required key missing" in refused.stderr
    unknown = myocit(tmp_path, "protocol", "shadow", "no-such-version")
    assert unknown.returncode == 2 and "unknown protocol version" in unknown.stderr


def test_shadow_lists_exactly_the_children_whose_status_moves_and_stores_nothing(tmp_path, client, tokens, rt):
    registered(client, tokens, rt)
    before = counts(rt)
    draft = amendment(tmp_path / "drafts")
    shown = myocit(tmp_path, "protocol", "shadow", str(draft), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert (report["active"], report["candidate"], report["as_of"]) == ("myocit-2026-11", NAME, "2026-12-01")
    assert report["screened"] == len(CHILDREN)
    found = {c["patient"]: (c["from"], c["to"], [(x["id"], x["from"], x["to"]) for x in c["criteria"]])
             for c in report["changes"]}
    assert found == EXPECTED
    assert report["failed"] == []
    assert {c["site"] for c in report["changes"]} == {"site-a"}
    assert "screened" in shown.stderr  # progress
    assert "--jobs" not in myocit(tmp_path, "protocol", "shadow", "--help").stdout  # the workers, not local jobs
    assert counts(rt) == before  # no screening stored, no alert raised
    only_b = json.loads(myocit(tmp_path, "protocol", "shadow", str(draft), "--format", "json",
                               "--site", "site-b").stdout)
    assert (only_b["screened"], only_b["changes"]) == (0, [])
    text = myocit(tmp_path, "protocol", "shadow", str(draft)).stdout
    assert "c-hb-9\tsite-a\teligible → ineligible\tEXC-HB pass → fail" in text
    csv_rows = myocit(tmp_path, "protocol", "shadow", str(draft), "--format", "csv").stdout.splitlines()
    assert csv_rows[0].startswith("patient,site,from,to,criterion") and len(csv_rows) == 1 + 4


def test_a_child_whose_screening_fails_is_reported_and_the_shadow_run_goes_on(tmp_path, client, tokens, rt,
                                                                            monkeypatch):
    registered(client, tokens, rt)
    screen = amendments.evaluate

    def failing_for_one_child(record, protocol, as_of):
        if record.patient == "c-vax-35":
            raise ZeroDivisionError("float division by zero")
        return screen(record, protocol, as_of)

    monkeypatch.setattr(amendments, "evaluate", failing_for_one_child)
    candidate = amendments.load_candidate(str(amendment(tmp_path / "drafts")), None)
    report = amendments.shadow(ShadowAmendment(NAME, DAY), rt.uow(), active_version="myocit-2026-11",
                               active=rt.protocol, candidate=candidate, clock=rt.clock)
    assert report["screened"] == len(CHILDREN)
    assert report["failed"] == [{"patient": "c-vax-35", "site": "site-a", "error": "ZeroDivisionError"}]
    assert {c["patient"] for c in report["changes"]} == set(EXPECTED) - {"c-vax-35"}


def test_activate_rescreens_everyone_and_alerts_once_per_changed_child(tmp_path, client, tokens, rt):
    registered(client, tokens, rt)
    screenings_before, alerts_before = counts(rt)
    with rt.uow() as uow:  # the first screenings raised one alert per new candidate (§5), none other
        assert {a.from_status for a in uow.session.scalars(select(Alert))} <= {None}
    candidate = amendments.load_candidate(str(amendment(tmp_path / "drafts")), None)
    done = amendments.activate(ActivateProtocol(NAME, "admin-1"), rt.uow(), candidate=candidate,
                               current=rt.protocol, clock=rt.clock, dispatch=rt.dispatch)
    assert done["patients"] == len(CHILDREN)
    rt.protocols.forget()
    assert rt.protocol.version == "2027-01"  # every process follows the database, no restart
    run_pending(rt)
    with rt.uow() as uow:
        rows = uow.session.execute(select(ScreeningRow.patient_pk, ScreeningRow.trigger,
                                          ScreeningRow.protocol_version)
                                   .order_by(ScreeningRow.pk)).all()
        alerts = {(pid, a.from_status, a.to_status, s.trigger, s.protocol_version)
                  for a, pid, s in uow.session.execute(
                      select(Alert, ScreeningRow.result["patient"].as_string(), ScreeningRow)
                      .join(ScreeningRow, ScreeningRow.pk == Alert.screening_pk)
                      .where(Alert.pk > alerts_before)).all()}
    old, new = rows[:screenings_before], rows[screenings_before:]
    assert {v for _, _, v in old} == {"2026-11"}  # screenings already stored keep their version
    assert len(new) == len(CHILDREN) and {(t, v) for _, t, v in new} == {("protocol-amendment", "2027-01")}
    assert alerts == {(pid, a, b, "protocol-amendment", "2027-01") for pid, (a, b, _) in EXPECTED.items()}
    status = client.get("/patients/c-hb-9/eligibility", headers=tokens["coordinator"]).json()
    assert (status["status"], status["protocol_version"]) == ("ineligible", "2027-01")


def test_an_activation_whose_sends_are_lost_is_finished_by_the_sweeper(tmp_path, client, tokens, rt):
    """The command line activates (its tasks go to a broker no worker reads, as if every worker were
    killed); the sweeper re-sends every marked child, and nothing is lost."""
    registered(client, tokens, rt)
    draft = amendment(tmp_path / "drafts")
    shown = myocit(tmp_path, "protocol", "activate", str(draft))
    assert shown.returncode == 0, shown.stderr
    assert f"{NAME} (version 2027-01) is active; {len(CHILDREN)} patients" in shown.stdout
    status = myocit(tmp_path, "status").stdout
    assert f"{NAME} (version 2027-01) by command line" in status and f"0 of {len(CHILDREN)}" in status
    rt.protocols.forget()
    later = rt.clock.now() + timedelta(minutes=5)
    schedule.sweep(SweepStalledWork(later), rt.uow(), clock=rt.clock, dispatch=rt.dispatch)
    run_pending(rt)
    assert f"{len(CHILDREN)} of {len(CHILDREN)}" in myocit(tmp_path, "status").stdout
    with rt.uow() as uow:
        moved = set(uow.session.scalars(select(ScreeningRow.result["patient"].as_string())
                                        .join(Alert, Alert.screening_pk == ScreeningRow.pk)
                                        .where(ScreeningRow.trigger == "protocol-amendment")))
        audited = uow.session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.action == "protocol-activate"))
    assert moved == set(EXPECTED) and audited == 1
    listed = myocit(tmp_path, "protocol", "list").stdout
    assert f"* {NAME}" in listed


def test_a_version_with_a_nan_threshold_or_an_endless_window_is_not_activated(tmp_path, client, tokens, rt):
    for old, new, key in (("haemoglobin_below_g_dl: 10.0", "haemoglobin_below_g_dl: .nan",
                           "thresholds.haemoglobin_below_g_dl"),
                          ("live_vaccine: 42", "live_vaccine: 3000000", "windows.live_vaccine")):
        draft = amendment(tmp_path / f"drafts-{key}")
        main = draft / "protocol.yaml"
        main.write_text(main.read_text().replace(old, new))
        shown = myocit(tmp_path, "protocol", "activate", str(draft))
        assert shown.returncode != 0
        assert f"{NAME}/protocol.yaml: {key}: " in shown.stdout + shown.stderr
        assert "Traceback" not in shown.stderr
    with rt.uow() as uow:
        audited = uow.session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.action == "protocol-activate"))
    assert audited == 0


def test_activate_wait_rescreens_everyone_on_the_embedded_default_with_progress(tmp_path, client, tokens, rt):
    registered(client, tokens, rt)
    draft = amendment(tmp_path / "drafts")
    done = myocit(tmp_path, "protocol", "activate", str(draft), "--wait")
    assert done.returncode == 0, done.stderr
    assert f"re-screening: {len(CHILDREN)}/{len(CHILDREN)} patients screened" in done.stderr
    with rt.uow() as uow:
        stamped = {(pid, version) for pid, version in uow.session.execute(
            select(Patient.id, ScreeningRow.protocol_version).join(Patient, Patient.pk == ScreeningRow.patient_pk)
            .where(ScreeningRow.trigger == "protocol-amendment"))}
    assert stamped == {(pid, "2027-01") for pid in CHILDREN}
