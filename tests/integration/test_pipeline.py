"""The pipeline against the real PostgreSQL and Redis, with real API, worker and scheduler processes."""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import date

import httpx
import redis
from sqlalchemy import func, select

from config.protocol_files import load_protocol
from domain import PatientRecord, evaluate
from ingest.fhir import read_bundle, screening_input
from store.models import Alert, Message, Patient
from store.tokens import create_token
from tests.fhir_samples import (
    DETECTED,
    NOT_DETECTED,
    attestations_part,
    bundle,
    coded,
    eligible_record,
    immunization,
    lab_part,
    post_parts,
    quantity,
)
from tests.integration.conftest import wait_until

DAY = date(2026, 12, 1)


def _tokens(rt):
    """Headers of the site-a lab, coordinator and investigator."""
    with rt.uow() as uow:
        made = [create_token(uow.session, role, ["site-a"], role, rt.clock.now())
                for role in ("lab", "coordinator", "investigator")]
        uow.commit()
    return tuple({"Authorization": f"Bearer {token}"} for token in made)


def _settled(rt) -> bool:
    with rt.uow() as uow:
        pending = uow.session.scalar(
            select(func.count()).select_from(Patient).where(Patient.pending_seq > Patient.evaluated_seq)
        )
    return pending == 0


def _status(client, base, headers, pid):
    """The stored status (GET computes one when nothing is stored yet, so check the store first)."""
    from bootstrap import runtime

    with runtime().uow() as uow:
        stored = uow.session.scalar(select(Patient.status).where(Patient.id == pid))
    if stored is None:
        return None
    response = client.get(f"{base}/patients/{pid}/eligibility", headers=headers)
    return response.json().get("status") if response.status_code == 200 else None


def test_cmv_positive_then_negative_raises_exactly_one_alert(rt, api, processes, tmp_path):
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    lab, coordinator, investigator = _tokens(rt)
    with httpx.Client(timeout=30) as client:
        record = eligible_record("p-cmv", DAY, with_cmv=False) + [coded("p-cmv", "4996-5", DETECTED, "2026-11-25")]
        assert post_parts(client, lab, investigator, record, url=f"{api}/fhir").status_code == 202
        wait_until(lambda: _status(client, api, coordinator, "p-cmv") == "ineligible", what="ineligible")
        negative = bundle([coded("p-cmv", "4996-5", NOT_DETECTED, "2026-11-30")], "batch")
        assert client.post(f"{api}/fhir", json=negative, headers=lab).status_code == 202
        wait_until(lambda: _status(client, api, coordinator, "p-cmv") == "eligible", what="eligible")
        time.sleep(1)
        alerts = client.get(f"{api}/alerts", headers=coordinator).json()
    assert [(a["from_status"], a["to_status"], a["changed"]) for a in alerts] == [
        ("ineligible", "eligible", ["EXC-CMV-PCR"])
    ]


def test_a_live_vaccine_waits_then_the_scheduler_makes_the_child_eligible_on_the_date(rt, api, processes, tmp_path):
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    lab, coordinator, investigator = _tokens(rt)
    with httpx.Client(timeout=30) as client:
        record = eligible_record("p-vax", DAY) + [immunization("p-vax", "03", "2026-11-20")]
        assert post_parts(client, lab, investigator, record, url=f"{api}/fhir").status_code == 202
        wait_until(lambda: _status(client, api, coordinator, "p-vax") == "waiting", what="waiting")
        stored = client.get(f"{api}/patients/p-vax/eligibility", headers=coordinator).json()
        assert stored["eligible_from"] == "2026-12-19" and stored["next_review_at"] == "2026-12-19"
        # The scheduler runs before the date: nobody is due.
        assert rt.celery.send_task("myocit.rescreen_due", kwargs={"today": "2026-12-18"})
        time.sleep(2)
        assert _status(client, api, coordinator, "p-vax") == "waiting"
        # The clock passes the date (after a downtime: the 20th catches up the 19th).
        rt.celery.send_task("myocit.rescreen_due", kwargs={"today": "2026-12-20"})
        wait_until(lambda: _status(client, api, coordinator, "p-vax") == "eligible", what="eligible after the date")
        alerts = client.get(f"{api}/alerts", headers=coordinator).json()
    assert [(a["from_status"], a["to_status"]) for a in alerts] == [(None, "waiting"), ("waiting", "eligible")]


def _offline_status(resources: list[dict], protocol) -> str:
    pid, profile, facts = screening_input(read_bundle(bundle(resources, "collection")))
    return evaluate(PatientRecord.build(pid, profile, facts, protocol), protocol, DAY).status.value


def _fault_stream(n_patients: int, n_results: int, seed: int):
    """Posts: each patient's attestations (an investigator's), each patient's record (a lab's), then
    ``n_results`` results in 20-result bundles, shuffled. ``per_patient``: each complete record."""
    rng = random.Random(seed)
    per_patient = {f"f-{i}": eligible_record(f"f-{i}", DAY, with_cmv=False) for i in range(n_patients)}
    results = []
    for n in range(n_results):
        pid = f"f-{n % n_patients}"
        day = f"2026-11-{rng.randint(5, 30):02d}"
        if rng.random() < 0.5:
            res = coded(pid, "4996-5", rng.choice([DETECTED, NOT_DETECTED]), day, oid=f"cmv-{n}")
        else:
            res = quantity(pid, "718-7", round(rng.uniform(6.5, 13), 1), "g/dL", day, oid=f"hb-{n}")
        results.append(res)
        per_patient[pid].append(res)
    records = [eligible_record(p, DAY, with_cmv=False) for p in per_patient]
    attestations = [bundle(attestations_part(record)) for record in records]
    registrations = [bundle(lab_part(record)) for record in records]
    rng.shuffle(results)
    results = [bundle(results[i:i + 20], "batch") for i in range(0, len(results), 20)]
    return per_patient, attestations, registrations, results


def _post_records(client, api, investigator, lab, attestations, registrations) -> int:
    """Every child's attestations, then every child's record; the number of messages posted."""
    for headers, bodies in ((investigator, attestations), (lab, registrations)):
        for body in bodies:
            assert client.post(f"{api}/fhir", json=body, headers=headers).status_code == 202
    return len(attestations) + len(registrations)


def _check_no_loss(rt, api, coordinator, per_patient, posted: int, figures: dict) -> None:
    protocol = load_protocol()
    wait_until(lambda: _settled(rt), timeout=180, what="every patient evaluated")
    with rt.uow() as uow:
        stored_messages = uow.session.scalar(select(func.count()).select_from(Message))
        alert_rows = uow.session.execute(select(Alert.screening_pk, Alert.patient_pk)).all()
    assert stored_messages == posted, "an acknowledged message is missing"
    assert len({s for s, _ in alert_rows}) == len(alert_rows), "an alert was raised twice for one screening"
    mismatched = []
    with httpx.Client(timeout=30) as client:
        alerts = client.get(f"{api}/alerts", headers=coordinator).json()
        for pid, resources in per_patient.items():
            status = _status(client, api, coordinator, pid)
            if status != _offline_status(resources, protocol):
                mismatched.append(pid)
            # Exactly once: each alert starts where the previous one ended, none is a non-change,
            # and the last one ends at the stored status.
            chain = [(a["from_status"], a["to_status"]) for a in alerts if a["patient"] == pid]
            assert all(old != new for old, new in chain), (pid, chain)
            assert all(a[1] == b[0] for a, b in zip(chain, chain[1:])), (pid, chain)
            assert all(old is not None for old, _ in chain[1:]), (pid, chain)  # a new candidate only first
            assert not chain or chain[-1][1] == status, (pid, chain, status)
    figures.update(messages=stored_messages, alerts=len(alert_rows), mismatched=len(mismatched))
    print(f"\nfault figures: {figures}")
    assert mismatched == []


def test_results_posted_while_workers_are_killed_are_all_evaluated_once(rt, api, processes, tmp_path):
    lab, coordinator, investigator = _tokens(rt)
    per_patient, attestations, registrations, results = _fault_stream(n_patients=25, n_results=1000, seed=7)
    processes.start("scheduler", "--loglevel=WARNING", log=tmp_path / "scheduler.log")
    worker = processes.start("worker", "--concurrency=2", log=tmp_path / "worker.log")
    kills, posted = 0, 0
    with httpx.Client(timeout=30) as client:
        # Every child screened once first, so that the results below change statuses and raise alerts.
        posted += _post_records(client, api, investigator, lab, attestations, registrations)
        wait_until(lambda: _settled(rt), timeout=120, what="the first screenings")
        for n, body in enumerate(results):
            assert client.post(f"{api}/fhir", json=body, headers=lab).status_code == 202
            posted += 1
            if n and n % 10 == 0 and kills < 3:
                processes.kill(worker)
                kills += 1
                worker = processes.start("worker", "--concurrency=2", log=tmp_path / "worker.log")
    _check_no_loss(rt, api, coordinator, per_patient, posted, {"results": 1000, "worker_sigkills": kills})


def test_results_survive_redis_being_flushed_mid_stream(rt, api, processes, tmp_path, redis_url):
    lab, coordinator, investigator = _tokens(rt)
    per_patient, attestations, registrations, results = _fault_stream(n_patients=20, n_results=600, seed=11)
    processes.start("scheduler", "--loglevel=WARNING", log=tmp_path / "scheduler.log")
    flushes, posted = 0, 0
    client_redis = redis.Redis.from_url(redis_url)
    with httpx.Client(timeout=30) as client:
        # Every child screened once first (so that results raise alerts), then no worker for a while.
        worker = processes.start("worker", "--concurrency=2", log=tmp_path / "worker.log")
        posted += _post_records(client, api, investigator, lab, attestations, registrations)
        wait_until(lambda: _settled(rt), timeout=120, what="the first screenings")
        processes.kill(worker)
        worker = None
        for n, body in enumerate(results):
            assert client.post(f"{api}/fhir", json=body, headers=lab).status_code == 202
            posted += 1
            if n == len(results) // 2:
                # Tasks queued so far are lost with the flush; the worker starts only afterwards.
                client_redis.flushdb()
                flushes += 1
                worker = processes.start("worker", "--concurrency=2", log=tmp_path / "worker.log")
    assert worker is not None
    _check_no_loss(rt, api, coordinator, per_patient, posted, {"results": 600, "redis_flushes": flushes})


def test_workers_stopped_with_sigterm_mid_stream_lose_nothing_and_double_nothing(rt, api, processes, tmp_path):
    """A warm shutdown (SIGTERM, as an orchestrator stops a container) finishes the task in hand and
    leaves the rest queued (one task prefetched at a time, late acknowledgement). No scheduler runs
    here: the sweeper cannot make up for a lost task, so every child settling proves none was lost."""
    lab, coordinator, investigator = _tokens(rt)
    per_patient, attestations, registrations, results = _fault_stream(n_patients=20, n_results=600, seed=5)
    log = tmp_path / "worker.log"

    def start_worker():
        readies = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
        started = processes.start("worker", "--concurrency=2", log=log)
        # Celery handles SIGTERM once it is up: wait for its "ready" line.
        wait_until(lambda: log.read_text(errors="replace").count(" ready.") > readies, what="the worker ready")
        return started

    worker = start_worker()
    stops, posted = 0, 0
    with httpx.Client(timeout=30) as client:
        posted += _post_records(client, api, investigator, lab, attestations, registrations)
        wait_until(lambda: _settled(rt), timeout=120, what="the first screenings")
        for n, body in enumerate(results):
            assert client.post(f"{api}/fhir", json=body, headers=lab).status_code == 202
            posted += 1
            if n and n % 8 == 0 and stops < 3:
                os.kill(worker.pid, signal.SIGTERM)  # the main process, as an orchestrator does
                assert worker.wait(timeout=120) == 0, "a warm shutdown ends cleanly"
                stops += 1
                worker = start_worker()
    _check_no_loss(rt, api, coordinator, per_patient, posted, {"results": 600, "worker_sigterms": stops})
