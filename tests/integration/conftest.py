"""A real PostgreSQL database and Redis database for this session; real worker and API processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from config.settings import Settings
from store.migrate import upgrade
from tests import services
from tests.processes import free_port
from bootstrap import Runtime, install

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pg_url():
    name, url = services.create_database()
    upgrade(url)
    yield url
    services.drop_database(name)


@pytest.fixture(scope="session")
def redis_url():
    number, url = services.redis_database()
    yield url
    services.release_redis(number)


@pytest.fixture()
def clean_db(pg_url):
    """An empty schema for each test (truncate, faster than a new database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    with engine.begin() as conn:
        # Tests start from an empty schema: the triggers that keep signed records immutable are
        # for the service, not for wiping a test database (replica mode skips them; superuser only).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(
            "TRUNCATE deliveries, subscriptions, audit_log, api_tokens, outbox, alerts, screenings, facts, patient_identifiers, "
            "patients, messages, protocol_activations, shadow_reports, shadow_chunks, shadow_runs, ehr_registrations, "
            "cds_jtis, tombstone_keys, erased_children, purges RESTART IDENTITY CASCADE"
        ))
    engine.dispose()
    return pg_url


@pytest.fixture()
def service_env(clean_db, redis_url, tmp_path):
    env = {
        **os.environ,
        "MYOCIT_DATABASE_URL": clean_db,
        "MYOCIT_BROKER_URL": redis_url,
        "MYOCIT_HOME": str(tmp_path),
        "MYOCIT_TODAY": "2026-12-01",
        "MYOCIT_SWEEP_AFTER_SECONDS": "3",
        "MYOCIT_SWEEP_EVERY_SECONDS": "1",
    }
    return env


@pytest.fixture()
def rt(service_env):
    settings = Settings(
        database_url=service_env["MYOCIT_DATABASE_URL"],
        broker_url=service_env["MYOCIT_BROKER_URL"],
        home=Path(service_env["MYOCIT_HOME"]),
        today="2026-12-01",
        sweep_after_seconds=3,
    )
    runtime = Runtime(settings)
    install(runtime)
    yield runtime
    runtime.dispose()


class Processes:
    def __init__(self, env: dict) -> None:
        self.env = env
        self.children: list[subprocess.Popen] = []
        self.logs: list = []

    def start(self, *args: str, log: Path | None = None) -> subprocess.Popen:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop_all
        if log:
            self.logs.append(out)
        child = subprocess.Popen([sys.executable, "-m", "myocit.cli", *args], env=self.env, cwd=ROOT,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(child)
        return child

    def kill(self, child: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass
        child.wait(timeout=30)

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for child in self.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        for log in self.logs:
            log.close()


@pytest.fixture()
def processes(service_env):
    procs = Processes(service_env)
    yield procs
    procs.stop_all()


@pytest.fixture()
def api(processes, tmp_path):
    port = free_port()
    processes.start("api", f"--port={port}", log=tmp_path / "api.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the API did not start: " + (tmp_path / "api.log").read_text()[-2000:])


def wait_until(predicate, timeout: float = 60, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
