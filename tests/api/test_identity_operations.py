"""Contract §13 for operators: failed evaluations are bounded and visible, the sweeper takes the
oldest first, a child moves only by an admin's command, tokens need sites, the embedded store is
private, and data stored by an earlier version is migrated."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from store import screening
from store.models import Patient
from testkit import cli
from tests.fhir_samples import patient, quantity
from tests.inprocess import run_pending

ROOT = Path(__file__).resolve().parents[2]


def _post_patient(client, tokens, pid: str, site: str = "site-a"):
    lab = "lab" if site == "site-a" else "lab-site-b"
    assert client.post("/fhir/Patient", json=patient(pid, site=site), headers=tokens[lab]).status_code == 202


def _row(rt, pid: str) -> Patient:
    with rt.uow() as uow:
        row = uow.session.scalar(select(Patient).where(Patient.id == pid))
        uow.session.expunge(row)
        return row


# --- failed evaluations ----------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


def test_an_evaluation_that_keeps_failing_marks_the_patient_failed_until_new_data(client, tokens, rt, monkeypatch):
    from service import evaluation

    real = evaluation.evaluate

    def failing(record, protocol, as_of):
        raise Boom("the message of this error may quote patient data")

    monkeypatch.setattr(evaluation, "evaluate", failing)
    _post_patient(client, tokens, "stuck")
    _post_patient(client, tokens, "fine")
    run_pending(rt)
    stuck = _row(rt, "stuck")
    assert (stuck.failure, stuck.failed_seq, stuck.enqueued_at) == ("Boom", stuck.pending_seq, None)
    status = client.get("/status", headers=tokens["admin"]).json()
    assert status["evaluations_failed"] == 2 and status["evaluation_failures"] == {"Boom": 2}
    assert status["pending"] == 0
    # Not swept again, even long after.
    with rt.uow() as uow:
        assert screening.stalled(uow.session, datetime.now(timezone.utc) + timedelta(days=1)) == []
    # New data for one child: its evaluation is sent at once and, the bug fixed, succeeds.
    monkeypatch.setattr(evaluation, "evaluate", real)
    obs = quantity("stuck", "26499-4", 2.0, "10*9/L", "2026-11-30")
    assert client.post("/fhir/Observation", json=obs, headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    stuck = _row(rt, "stuck")
    assert stuck.status is not None and stuck.failure is None and stuck.failed_seq is None
    assert client.get("/status", headers=tokens["admin"]).json()["evaluation_failures"] == {"Boom": 1}


def test_a_failing_evaluation_is_retried_with_backoff_before_it_is_marked(rt, monkeypatch):
    from celery.exceptions import Retry

    from workers import tasks

    class Request:
        called_directly = False

        def __init__(self, retries: int) -> None:
            self.retries = retries

    class FakeTask:
        def __init__(self, retries: int) -> None:
            self.request = Request(retries)
            self.retried: list[dict] = []

        def retry(self, **kwargs):
            self.retried.append(kwargs)
            return Retry()

    marked: list[int] = []
    monkeypatch.setattr(screening, "mark_failed", lambda session, pk, kind, now: marked.append(pk))
    attempts = rt.settings.evaluation_attempts
    for retries in range(attempts - 1):
        task = FakeTask(retries)
        with pytest.raises(Retry):
            tasks._failed(task, rt, 7, Boom())
        assert task.retried[0]["countdown"] == 2 ** (retries + 1)
        assert task.retried[0]["max_retries"] == attempts - 1
    assert marked == []
    tasks._failed(FakeTask(attempts - 1), rt, 7, Boom())
    assert marked == [7]


def test_the_sweeper_takes_the_oldest_first(client, tokens, rt):
    for pid in ("newer", "older", "never-sent"):
        _post_patient(client, tokens, pid)
    rt.celery.sent.clear()
    now = datetime.now(timezone.utc)
    with rt.uow() as uow:
        for pid, sent in (("newer", now - timedelta(minutes=5)), ("older", now - timedelta(hours=5)),
                          ("never-sent", None)):
            uow.session.execute(text("UPDATE patients SET enqueued_at = :at WHERE id = :id"), {"at": sent, "id": pid})
        uow.commit()
    with rt.uow() as uow:
        order = screening.stalled(uow.session, now - timedelta(minutes=1))
        ids = {row.pk: row.id for row in uow.session.scalars(select(Patient))}
    assert [ids[pk] for pk in order] == ["never-sent", "older", "newer"]


# --- moving a child; tokens; the store ----------------------------------------------------------------


def myocit(home: Path, *args: str, **env: str) -> cli.Done:
    return cli.myocit(*args, env={"MYOCIT_HOME": str(home), "MYOCIT_TODAY": "2026-12-01", **env})


def test_a_child_moves_only_by_the_admin_command_and_it_is_audited(client, tokens, rt):
    _post_patient(client, tokens, "kid")
    run_pending(rt)
    assert client.post("/fhir/Patient", json=patient("kid", site="site-b"), headers=tokens["admin"]).status_code == 409
    moved = myocit(rt.settings.home, "patient", "move", "kid", "--site", "site-b")
    assert moved.returncode == 0, moved.stderr
    assert "moved from site-a to site-b" in moved.stdout
    assert _row(rt, "kid").site == "site-b"
    assert client.get("/patients/kid/eligibility", headers=tokens["coordinator"]).status_code == 404
    with rt.uow() as uow:
        audited = uow.session.execute(text("SELECT actor, action, target, screening_id FROM audit_log "
                                           "WHERE action = 'patient-move'")).all()
    assert audited == [("command line", "patient-move", "site site-a -> site-b", _row(rt, "kid").screening_id)]
    missing = myocit(rt.settings.home, "patient", "move", "nobody", "--site", "site-b")
    assert missing.returncode == 2 and "no registered patient nobody" in missing.stderr


def test_tokens_need_sites_and_the_service_refuses_to_start_with_one_left_without(tmp_path):
    refused = myocit(tmp_path, "token", "create", "--role", "lab")
    assert refused.returncode == 2 and "needs at least one --site" in refused.stderr
    made = myocit(tmp_path, "token", "create", "--role", "lab", "--site", "site-a", "--site", "site-b")
    assert made.returncode == 0
    assert "site-a,site-b" in myocit(tmp_path, "token", "list").stdout
    # A token left by an earlier version, with no site.
    engine = create_engine(f"sqlite:///{tmp_path / 'myocit.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_tokens (token_hash, role, sites, name, created_at) "
                          "VALUES ('x', 'coordinator', '[]', 'old', '2026-11-01 00:00:00')"))
    engine.dispose()
    assert "tokens without site       1" in myocit(tmp_path, "status").stdout
    start = myocit(tmp_path, "api", "--port", "1")
    assert start.returncode == 2
    assert "myocit token sites" in start.stderr and "myocit token revoke" in start.stderr
    token_id = next(line.split("\t")[0] for line in myocit(tmp_path, "token", "list").stdout.splitlines()
                    if "\told\t" in line)
    fixed = myocit(tmp_path, "token", "sites", token_id, "--site", "site-a")
    assert fixed.returncode == 0 and "acts for site-a" in fixed.stdout
    assert "tokens without site       0" in myocit(tmp_path, "status").stdout


def test_the_embedded_store_is_readable_by_its_owner_only(tmp_path):
    home = tmp_path / "var"
    assert myocit(home, "migrate").returncode == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for path in home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert {"myocit.sqlite", "broker.sqlite"} <= {p.name for p in home.iterdir()}
    # Files left world-readable by an earlier version are narrowed at the next start.
    os.chmod(home, 0o755)
    os.chmod(home / "myocit.sqlite", 0o644)
    assert myocit(home, "status").returncode == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "myocit.sqlite").stat().st_mode) == 0o600


def test_data_of_the_previous_schema_is_migrated(tmp_path):
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_tokens (token_hash, role, site, name, created_at) VALUES "
                          "('a', 'coordinator', 'site-a', 'c', '2026-11-01'), ('b', 'lab', NULL, 'l', '2026-11-01')"))
        conn.execute(text("INSERT INTO messages (received_at, channel, content_type, body, sha256, fact_count) "
                          "VALUES ('2026-11-01', 'fhir', 'x', '{}', 's', 1)"))
        conn.execute(text("INSERT INTO patients (id, registered, pending_seq, evaluated_seq) VALUES ('p', 1, 0, 0)"))
        conn.execute(text("INSERT INTO patient_identifiers (patient_pk, system, value) VALUES (1, '', 'M-1')"))
        conn.execute(text("INSERT INTO facts (message_pk, patient_pk, subject_key, kind, source, revision, effective, "
                          "payload) VALUES (1, 1, 'id:p', 'LabResult', 'Observation/o', 1764547200000000003, "
                          "'2026-11-01', '{}')"))
    upgrade(url)
    with engine.connect() as conn:
        tokens = conn.execute(text("SELECT role, sites FROM api_tokens ORDER BY pk")).all()
        identifier = conn.execute(text("SELECT system, value FROM patient_identifiers")).one()
        revision = conn.execute(text("SELECT revision FROM facts")).scalar()
    engine.dispose()
    assert [(role, sites.replace(" ", "")) for role, sites in tokens] == [("coordinator", '["site-a"]'), ("lab", "[]")]
    assert tuple(identifier) == (None, "M-1")
    assert revision == (1 << 24) + 3
