"""Contract §7: the initial load of a site's children, through the same validation, identity and
authority checks and store as POST /fhir, each child screened once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.commands import ImportResources
from service.imports import import_resources
from store.models import Alert, Message, Patient
from testkit import cli
from tests.fhir_samples import coded, eligible_record, lab_part, patient, quantity, NOT_DETECTED
from tests.inprocess import evaluations_sent, run_pending

DAY = date(2026, 12, 1)
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "synthea"


def write_export(folder: Path, children: int, *, bad_lines: int = 0) -> Path:
    """A Bulk Data export of ``children`` children: one NDJSON file per resource type, Observations
    first (any order across files is allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[dict]] = {}
    for i in range(children):
        record = lab_part(eligible_record(f"c-{i:03d}", DAY, with_cmv=False)) + [
            coded(f"c-{i:03d}", "4996-5", NOT_DETECTED, "2026-11-25")]
        for resource in record:
            by_type.setdefault(resource["resourceType"], []).append(resource)
    for kind in sorted(by_type, key=lambda k: k != "Observation"):
        lines = [json.dumps(r) for r in by_type[kind]]
        if kind == "Observation" and bad_lines:
            for n in range(bad_lines):
                lines.insert(3 + n * 5, '{"resourceType": "Observation", "id": "broken"' if n % 2 else "not json")
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
    return folder


def load(rt, *paths, site=None):
    return import_resources(ImportResources(tuple(paths), site), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                            protocol=rt.protocol)


def count(rt, model) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_an_export_of_200_children_screens_each_once_and_a_second_run_stores_nothing(rt, tmp_path):
    export = write_export(tmp_path / "export", 200)
    report = load(rt, export)
    assert (report.rejected, report.duplicates, report.queued) == (0, 0, 200)
    evaluations = evaluations_sent(rt)
    assert len(evaluations) == 200 and len(set(evaluations)) == 200
    run_pending(rt)
    with rt.uow() as uow:
        statuses = dict(uow.session.execute(select(Patient.status, func.count()).group_by(Patient.status)).all())
    assert statuses == {"incomplete": 200}  # the attestations are the investigators' to give
    messages = count(rt, Message)
    again = load(rt, export)
    assert (again.stored, again.duplicates, again.queued) == (0, report.stored, 0)
    run_pending(rt)
    assert count(rt, Message) == messages and count(rt, Alert) == 0


def test_bad_lines_are_reported_with_their_line_numbers_and_the_rest_is_stored(rt, tmp_path):
    export = write_export(tmp_path / "export", 3, bad_lines=3)
    problems: list[str] = []
    report = import_resources(ImportResources((export,), None), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                              protocol=rt.protocol, on_problem=problems.append)
    assert report.rejected == 3 and len(problems) == 3
    assert [p.split(": ", 1)[0] for p in problems] == [f"{export / 'Observation.ndjson'}:{n}" for n in (4, 9, 14)]
    assert report.stored == report.read - 3 and report.queued == 3


def test_the_synthea_bundles_import_cleanly(rt):
    report = load(rt, CORPUS, site="site-a")
    assert report.files == len(list(CORPUS.glob("*.json"))) and report.rejected == 0, report.problems
    run_pending(rt)
    with rt.uow() as uow:
        assert set(uow.session.scalars(select(Patient.site))) == {"site-a"}
        assert uow.session.scalar(select(func.count()).where(Patient.status.is_not(None))) == report.files


def test_an_import_for_one_site_writes_for_that_site_only(client, tokens, rt, tmp_path):
    """Contract §13 on this path: the load acts as a lab of its site."""
    assert client.post("/fhir/Patient", json=patient("kid-a", site="site-a"), headers=tokens["lab"]).status_code == 202
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(json.dumps(patient("kid-a", site="site-b")) + "\n"
                                           + json.dumps(patient("kid-new", site="site-a")) + "\n")
    (folder / "Observation.ndjson").write_text(
        json.dumps(quantity("kid-a", "26499-4", 0.3, "10*9/L", "2026-11-30")) + "\n")
    before = count(rt, Message)
    report = load(rt, folder, site="site-b")
    assert report.rejected == 3 and report.stored == 0
    assert all("site" in p for p in report.problems)
    assert count(rt, Message) == before
    with rt.uow() as uow:
        assert uow.session.scalar(select(Patient.site).where(Patient.id == "kid-a")) == "site-a"


def test_without_a_site_patients_must_name_theirs(rt, tmp_path):
    (tmp_path / "Patient.ndjson").write_text(json.dumps({**patient("p-x"), "managingOrganization": None}
                                                        ).replace(', "managingOrganization": null', "") + "\n")
    report = load(rt, tmp_path / "Patient.ndjson")
    assert report.rejected == 1 and "managingOrganization is required" in report.problems[0]


@pytest.mark.parametrize("content,code", [("good", 0), ("some bad", 1), ("missing", 2), ("all bad", 2)])
def test_the_command_exits_as_the_contract_says(tmp_path, content, code):
    good = json.dumps(patient("p-cli", site="site-a"))
    files = {"good": [good], "some bad": [good, "not json"], "all bad": ["not json"]}
    path = tmp_path / "Patient.ndjson"
    if content != "missing":
        path.write_text("\n".join(files[content]) + "\n")
    done = cli.myocit("import", str(path), "--site", "site-a",
                      env={"MYOCIT_HOME": str(tmp_path / "var"), "MYOCIT_TODAY": "2026-12-01"})
    assert done.returncode == code, done.stderr
    if content == "some bad":
        assert f"{path}:2: not valid JSON" in done.stderr
        assert "1 stored, 0 duplicates skipped, 1 rejected; 1 patients queued" in done.stdout
