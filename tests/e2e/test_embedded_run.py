"""`myocit run` on the embedded default (SQLite and a SQLite-backed broker, real Celery processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "typical-child.json"


def test_myocit_run_stores_a_posted_record_and_evaluates_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")}
    env.update(MYOCIT_HOME=str(tmp_path / "var"), MYOCIT_TODAY="2026-12-01", MYOCIT_SWEEP_AFTER_SECONDS="2")
    cli = [sys.executable, "-m", "myocit.cli"]
    lab = subprocess.run(cli + ["token", "create", "--role", "lab"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.strip()
    coordinator = subprocess.run(cli + ["token", "create", "--role", "coordinator", "--site", "site-a"], env=env,
                                 cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    service = subprocess.Popen(cli + ["run", f"--port={port}"], env=env, cwd=tmp_path, start_new_session=True,
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
        posted = httpx.post(f"{base}/fhir", content=FIXTURE.read_bytes(), timeout=30,
                            headers={"Authorization": f"Bearer {lab}", "Content-Type": "application/fhir+json"})
        assert posted.status_code == 202
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
    finally:
        stop_group(service)
