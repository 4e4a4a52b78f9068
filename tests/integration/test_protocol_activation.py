"""Contract §10 against the real PostgreSQL and Redis with real worker processes: an activation
re-screens everyone through the workers, and a worker killed mid-activation loses nothing (the
sweeper finishes the children still pending)."""

from __future__ import annotations

import subprocess
import sys

import httpx
from sqlalchemy import func, select

from store.models import Alert, Patient, ScreeningRow
from tests.api.test_protocol_amendments import CHILDREN, EXPECTED, ROOT, amendment, child
from tests.fhir_samples import post_parts
from tests.integration.conftest import wait_until
from tests.integration.test_pipeline import _settled, _tokens

EXTRA = 40
"""Children beyond the test's seven, all eligible, so that the activation takes the worker a while."""


def _amended(rt) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count(func.distinct(ScreeningRow.patient_pk)))
                                  .where(ScreeningRow.protocol_version == "2027-01",
                                         ScreeningRow.trigger == "protocol-amendment"))


def test_a_worker_killed_mid_activation_loses_nothing(rt, api, processes, service_env, tmp_path):
    lab, coordinator, investigator = _tokens(rt)
    worker = processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    children = dict(CHILDREN) | {f"c-extra-{i}": {} for i in range(EXTRA)}
    with httpx.Client(timeout=30) as client:
        for pid, spec in children.items():
            assert post_parts(client, lab, investigator, child(pid, **spec), url=f"{api}/fhir").status_code == 202
    wait_until(lambda: _settled(rt), timeout=120, what="the first screenings")
    draft = amendment(tmp_path / "drafts")
    done = subprocess.run([sys.executable, "-m", "myocit.cli", "protocol", "activate", str(draft)], env=service_env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: _amended(rt) >= 3, timeout=60, what="the first re-screenings")
    processes.kill(worker)
    processes.start("scheduler", "--loglevel=WARNING", log=tmp_path / "scheduler.log")
    processes.start("worker", "--concurrency=2", log=tmp_path / "worker2.log")
    wait_until(lambda: _amended(rt) == len(children) and _settled(rt), timeout=120, what="every child re-screened")
    with rt.uow() as uow:
        # The first screenings' alerts are the new candidates' (§5, no previous status); the rest are
        # the activation's.
        changed = Alert.from_status.is_not(None)
        alerts = {(pid, a.from_status, a.to_status) for a, pid in uow.session.execute(
            select(Alert, Patient.id).join(Patient, Patient.pk == Alert.patient_pk).where(changed)).all()}
        stamped = set(uow.session.execute(select(ScreeningRow.trigger, ScreeningRow.protocol_version)
                                          .join(Alert, Alert.screening_pk == ScreeningRow.pk)
                                          .where(changed)).all())
    assert alerts == {(pid, a, b) for pid, (a, b, _) in EXPECTED.items()}
    assert stamped == {("protocol-amendment", "2027-01")}
