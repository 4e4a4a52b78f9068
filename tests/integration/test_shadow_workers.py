"""Contract §10 against the real PostgreSQL and Redis with real worker processes: a shadow run's
chunks are screened by the workers and gathered by the command; a worker killed (kill -9) while its
chunk reads the facts loses nothing: the command sends the chunk again and another worker takes it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from sqlalchemy import create_engine, func, select, text

from store.models import ScreeningRow, ShadowChunk
from tests.api.test_protocol_amendments import CHILDREN, EXPECTED, ROOT, amendment, child
from tests.fhir_samples import post_parts
from tests.integration.conftest import wait_until
from tests.integration.test_pipeline import _settled, _tokens

EXTRA = 20


def _taken(rt) -> bool:
    with rt.uow() as uow:
        return bool(uow.session.scalar(select(func.count()).select_from(ShadowChunk)
                                       .where(ShadowChunk.taken_at.is_not(None))))


def _waiting_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar() > 0


def test_a_worker_killed_in_a_chunk_loses_nothing(rt, api, processes, service_env, clean_db, tmp_path):
    lab, coordinator, investigator = _tokens(rt)
    worker = processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    children = dict(CHILDREN) | {f"c-extra-{i}": {} for i in range(EXTRA)}
    with httpx.Client(timeout=30) as client:
        for pid, spec in children.items():
            assert post_parts(client, lab, investigator, child(pid, **spec), url=f"{api}/fhir").status_code == 202
    wait_until(lambda: _settled(rt), timeout=120, what="the first screenings")
    with rt.uow() as uow:
        screenings = uow.session.scalar(select(func.count()).select_from(ScreeningRow))
    draft = amendment(tmp_path / "drafts")

    locker = create_engine(clean_db)
    holding = locker.connect()
    transaction = holding.begin()
    holding.execute(text("LOCK TABLE facts IN ACCESS EXCLUSIVE MODE"))  # the chunk's reads wait here
    try:
        shadow = subprocess.Popen([sys.executable, "-m", "myocit.cli", "protocol", "shadow", str(draft), "--format",
                                   "json"], env=service_env | {"MYOCIT_SHADOW_CHUNK_SECONDS": "2"}, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: _taken(rt) and _waiting_on_a_lock(locker), what="a worker reading its chunk's facts")
        processes.kill(worker, signal.SIGKILL)
    finally:
        transaction.rollback()
        holding.close()
        locker.dispose()
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker2.log")
    out, err = shadow.communicate(timeout=120)
    assert shadow.returncode == 0, err
    report = json.loads(out)
    assert report["screened"] == len(children) and report["failed"] == []
    assert {c["patient"]: c["to"] for c in report["changes"]} == {pid: to for pid, (_, to, _) in EXPECTED.items()}
    assert "sent again" in err  # the lost chunk, taken again
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ShadowChunk)) == 0
        assert uow.session.scalar(select(func.count()).select_from(ScreeningRow)) == screenings  # stored nothing
