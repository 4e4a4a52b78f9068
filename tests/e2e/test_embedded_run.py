"""`myocit run` on the embedded default (SQLite and a SQLite-backed broker, real Celery processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from testkit import cli as in_process
from tests.fhir_samples import bundle_parts
from tests.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "typical-child.json"


def test_myocit_run_stores_a_posted_record_and_evaluates_it(tmp_path):
    own = {"MYOCIT_HOME": str(tmp_path / "var"), "MYOCIT_TODAY": "2026-12-01",
           "MYOCIT_SWEEP_AFTER_SECONDS": "2"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | own
    cli = [sys.executable, "-m", "myocit.cli"]

    def token(role: str) -> str:
        made = in_process.myocit("token", "create", "--role", role, "--site", "site-a", env=own, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    lab, coordinator, investigator = token("lab"), token("coordinator"), token("investigator")
    port = free_port()
    service = subprocess.Popen(cli + ["run", f"--port={port}", f"--mllp-port={free_port()}"], env=env, cwd=tmp_path,
                               start_new_session=True,
                               stdout=open(tmp_path / "run.log", "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        # The record's judgements from the site's investigator, the rest from the lab (contract §13).
        lab_part, attestations = bundle_parts(json.loads(FIXTURE.read_bytes()))
        for token, part in ((investigator, attestations), (lab, lab_part)):
            posted = httpx.post(f"{base}/fhir", json=part, timeout=30, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
            assert posted.status_code == 202, posted.text
        headers = {"Authorization": f"Bearer {coordinator}"}
        status = None
        while time.monotonic() < deadline + 30:
            response = httpx.get(f"{base}/patients/pat-001/eligibility", headers=headers, timeout=10)
            if response.status_code == 200 and response.json().get("status") == "eligible":
                status = "eligible"
                import sqlite3

                stored = sqlite3.connect(tmp_path / "var" / "myocit.sqlite").execute(
                    "SELECT count(*) FROM screenings").fetchone()[0]
                if stored:
                    break
            time.sleep(0.3)
        assert status == "eligible", (tmp_path / "run.log").read_text()[-3000:]
        # A second run on the same home is refused, and leaves the first one's metrics in place.
        counted = sorted((tmp_path / "var" / "metrics").glob("*.db"))
        assert counted
        second = subprocess.run(cli + ["run", f"--port={free_port()}", "--mllp-port=0"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "another `myocit run` is already running" in second.stderr
        assert all(path.exists() for path in counted)
    finally:
        stop_group(service)
    # Contract §12: at the default level, `myocit run` writes a line per message and per screening stored.
    logged = (tmp_path / "run.log").read_text()
    assert "fhir message " in logged and " stored: " in logged
    assert "screening " in logged and " of patient pk=" in logged, logged[-3000:]
