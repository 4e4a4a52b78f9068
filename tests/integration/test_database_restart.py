"""PostgreSQL stops and starts again while a lab keeps posting: 503 meanwhile, nothing acknowledged lost."""

from __future__ import annotations

import glob
import os
import subprocess
import threading
import time
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from store.models import Message
from store.tokens import create_token
from tests import services
from tests.fhir_samples import NOT_DETECTED, bundle, coded, eligible_record, post_parts
from tests.integration.conftest import wait_until

VERSION = os.path.basename(max(glob.glob("/etc/postgresql/*"))) if glob.glob("/etc/postgresql/*") else None


def _cluster(action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", VERSION, "main", action, *(
        ["-m", "fast"] if action == "stop" else [])], check=True, capture_output=True, timeout=120)


def _pg_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def test_the_api_answers_503_while_postgresql_is_down_and_loses_nothing_it_acknowledged(rt, api, processes, tmp_path):
    if VERSION is None or os.geteuid() != 0:
        services.unavailable("a local PostgreSQL cluster that this user may restart",
                             PermissionError("needs pg_ctlcluster and root"))
    with rt.uow() as uow:
        token = create_token(uow.session, "lab", ["site-a"], "lab", rt.clock.now())
        investigator = create_token(uow.session, "investigator", ["site-a"], "investigator", rt.clock.now())
        uow.commit()
    headers = {"Authorization": f"Bearer {token}"}
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    with httpx.Client(timeout=30) as client:  # the record: attestations from the investigator, then the lab's part
        post_parts(client, headers, {"Authorization": f"Bearer {investigator}"},
                   eligible_record("p-db", date(2026, 12, 1)), url=f"{api}/fhir").raise_for_status()
    codes: list[int] = []
    acknowledged: list[str] = []
    stop = threading.Event()

    def post_forever() -> None:
        n = 0
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                n += 1
                oid = f"cmv-{n}"
                body = bundle([coded("p-db", "4996-5", NOT_DETECTED, f"2026-11-{1 + n % 28:02d}", oid=oid)], "batch")
                try:
                    response = client.post(f"{api}/fhir", json=body, headers=headers)
                except httpx.HTTPError:
                    codes.append(-1)
                    continue
                codes.append(response.status_code)
                if response.status_code == 202:
                    acknowledged.append(oid)
                time.sleep(0.02)

    poster = threading.Thread(target=post_forever)
    poster.start()
    try:
        time.sleep(1)
        _cluster("stop")
        time.sleep(3)
        health = httpx.get(f"{api}/healthz", timeout=10)
        assert health.status_code == 503
    finally:
        if not _pg_up():
            _cluster("start")
        wait_until(_pg_up, timeout=60, what="PostgreSQL back")
    time.sleep(3)
    stop.set()
    poster.join(timeout=60)
    print(f"\nrestart figures: {len(codes)} posts, {codes.count(202)} acknowledged, {codes.count(503)} answered 503, "
          f"{sum(1 for c in codes if c not in (202, 503))} other")
    assert 503 in codes, "no request was refused while the database was down"
    assert all(c in (202, 503) for c in codes), sorted(set(codes))
    assert wait_until(lambda: httpx.get(f"{api}/healthz", timeout=10).status_code == 200, timeout=30,
                      what="healthy again")
    rt.engine.dispose()  # this test's own pooled connections died with the server
    with rt.uow() as uow:
        bodies = uow.session.scalars(select(Message.body)).all()
        # The record's two messages (attestations, lab part), then every acknowledged result.
        assert uow.session.scalar(select(func.count()).select_from(Message)) == len(acknowledged) + 2
    stored = "".join(bodies)
    assert all(f'"{oid}"' in stored for oid in acknowledged)


def test_a_failed_copy_of_facts_is_reported_as_a_database_error(clean_db):
    """Facts go to PostgreSQL by COPY, around SQLAlchemy; its failures must still look like
    SQLAlchemy's (the API maps those to 503, workers retry them) and roll back whole."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import IntegrityError

    from store.intake import _insert_facts

    engine = create_engine(clean_db)
    row = {"message_pk": 999_999, "patient_pk": None, "subject_key": "id:x", "scope": None, "kind": "LabResult",
           "source": "Observation/x", "revision": 1, "effective": date(2026, 11, 30), "payload": {}}
    try:
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _insert_facts(conn, [row])
    finally:
        engine.dispose()


def test_a_copy_on_a_connection_the_server_dropped_answers_like_any_lost_connection(clean_db):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from store.intake import _insert_facts

    engine = create_engine(clean_db)
    row = {"message_pk": 1, "patient_pk": None, "subject_key": "id:x", "scope": None, "kind": "LabResult",
           "source": "Observation/x", "revision": 1, "effective": date(2026, 11, 30), "payload": {}}
    try:
        with engine.connect() as conn:
            backend = conn.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            with pytest.raises(OperationalError) as raised:
                _insert_facts(conn, [row])
            assert raised.value.connection_invalidated and conn.invalidated
    finally:
        engine.dispose()
