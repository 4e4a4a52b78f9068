"""End-to-end pipeline throughput and alert latency on PostgreSQL + Redis with two worker processes.

    python bench/pipeline.py [--results 20000] [--latency-samples 40] [--throughput-only]

1. Throughput: lab results posted over HTTP in 20-result bundles by concurrent clients (--clients), timed until
   every patient's screening is committed.
2. Latency: post-to-alert time (a CMV result flipping an eligible child), at a modest rate, p50/p99.
3. Intake ceiling: the same posts to the API alone once the worker is stopped (evaluation free): the
   upper bound of any pipeline on this machine.
4. Baseline, same run, same services: a bare Celery task (read one row, update it, insert one row),
   tasks per second with two worker processes. Ratio: bundles evaluated per second vs that rate.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_by_process, cpu_spent, describe  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Alert, Patient  # noqa: E402
from tests.fhir_samples import (  # noqa: E402
    DETECTED,
    NOT_DETECTED,
    attestations_part,
    bundle,
    coded,
    eligible_record,
    lab_part,
    quantity,
)

DAY = date(2026, 12, 1)
ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"


def start(args, env, log):
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def wait(predicate, timeout=600, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    raise TimeoutError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=20000)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--latency-samples", type=int, default=40)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--api-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency and baseline phases")
    parser.add_argument("--no-intake-ceiling", dest="intake_ceiling", action="store_false",
                        help="skip the phase that posts to the API alone, with no worker running")
    args = parser.parse_args()
    name = f"myocit_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1/{name}"
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    upgrade(url)
    env = {**os.environ, "MYOCIT_DATABASE_URL": url, "MYOCIT_BROKER_URL": broker, "MYOCIT_TODAY": DAY.isoformat(),
           "BENCH_DATABASE_URL": url, "BENCH_BROKER_URL": broker, "MYOCIT_HOME": f"/tmp/{name}"}
    logs = Path(f"/tmp/{name}")
    logs.mkdir(exist_ok=True)
    children = []
    engine = create_engine(url)
    try:
        import redis

        redis.Redis.from_url(broker).flushdb()

        def token(role: str) -> dict:
            made = subprocess.run([sys.executable, "-m", "myocit.cli", "token", "create", "--role", role,
                                   "--site", "site-a"], env=env, cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
            return {"Authorization": f"Bearer {made}", "Content-Type": "application/fhir+json"}

        headers = token("lab")
        investigator = Poster("127.0.0.1", 8765, token("investigator"))  # attestations only (contract §13)
        children.append(start([sys.executable, "-m", "myocit.cli", "api", "--port", "8765",
                               f"--workers={args.api_workers}"], env, logs / "api.log"))
        children.append(start([sys.executable, "-m", "myocit.cli", "worker", "--concurrency=2", "--loglevel=WARNING"],
                              env, logs / "worker.log"))
        base = "http://127.0.0.1:8765"
        wait(lambda: _up(base), timeout=60)
        print(f"machine: {describe()}")
        poster = Poster("127.0.0.1", 8765, headers)
        pids = [f"b-{i}" for i in range(args.patients)]
        _post_records(poster, investigator, pids, args.clients)
        wait(lambda: _settled(engine))
        bodies = _result_bundles(pids, args.results // 20, "hb")
        evaluations_before = _count(engine, "screenings")
        cpu_before = cpu_by_process()
        start_time = time.perf_counter()
        poster.post_all(bodies, args.clients)
        posted = time.perf_counter() - start_time
        wait(lambda: _settled(engine))
        total = time.perf_counter() - start_time
        cpu_after = cpu_by_process()
        rate = args.results / total
        print(f"throughput: {args.results} results in {len(bodies)} bundles: posted in {posted:.1f}s, "
              f"all committed in {total:.1f}s -> {rate:,.0f} results/s ({len(bodies) / total:,.0f} bundles/s)")
        print(f"  CPU time during it, by process ({total:.1f}s x {os.cpu_count()} cores available): "
              f"{cpu_spent(cpu_before, cpu_after)}")
        print(f"  evaluations: {_count(engine, 'screenings') - evaluations_before} for {len(bodies)} bundles "
              f"(a patient's pending results share one evaluation)")

        if not args.throughput_only:
            _measure_latency(poster, engine, pids, len(bodies) / total / 2, args.latency_samples)
        for child in children[1:]:
            child.terminate()
            child.wait(30)
        if args.intake_ceiling:
            _intake_ceiling(poster, investigator, args)
        if args.throughput_only:
            return
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_counter (id int primary key, n int)"))
            conn.execute(text("CREATE TABLE bench_log (id serial primary key, counter int)"))
            conn.execute(text("INSERT INTO bench_counter SELECT g, 0 FROM generate_series(1, 100) g"))
        os.environ.update(BENCH_BROKER_URL=broker, BENCH_DATABASE_URL=url)
        from bench.baseline_tasks import app as baseline_app

        children.append(start([sys.executable, "-m", "celery", "-A", "bench.baseline_tasks", "worker",
                               "--concurrency=2", "--loglevel=WARNING", "-Q", "baseline"], env, logs / "baseline.log"))
        baseline_app.send_task("baseline.touch", args=[1])  # warm-up: the timing starts with a ready worker
        wait(lambda: _count(engine, "bench_log") >= 1, timeout=120)
        tasks = 4000
        t0 = time.perf_counter()
        for i in range(tasks):
            baseline_app.send_task("baseline.touch", args=[i % 100 + 1])
        wait(lambda: _count(engine, "bench_log") >= tasks + 1)
        base_rate = tasks / (time.perf_counter() - t0)
        print(f"baseline: bare Celery task (read, update, insert) {base_rate:,.0f} tasks/s with 2 processes")
        print(f"ratio: pipeline bundles/s vs baseline tasks/s = {(len(bodies) / total) / base_rate:.2f} "
              f"(target >= 0.5); results/s target >= 5,000: {'met' if rate >= 5000 else 'NOT met'}")
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(20)
                except subprocess.TimeoutExpired:
                    child.kill()
        engine.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure_latency(poster: "Poster", engine, pids, half_rate: float, samples: int) -> None:
    """Post-to-alert time, sampled under a background load of ``half_rate`` bundles per second."""
    stop = threading.Event()

    def background() -> None:
        n = 0
        while not stop.is_set():
            pid = pids[n % len(pids)]
            results = [quantity(pid, "718-7", 10, "g/dL", "2026-11-29", oid=f"bg-{n}-{k}") for k in range(20)]
            poster.post(_json(bundle(results, "batch")))
            n += 1
            time.sleep(1 / half_rate)

    loader = threading.Thread(target=background, daemon=True)
    loader.start()
    latencies = []
    for k in range(samples):
        pid = pids[k % len(pids)]
        answer = DETECTED if k // len(pids) % 2 == 0 else NOT_DETECTED
        with engine.connect() as conn:
            before = conn.scalar(select(func.max(Alert.pk))) or 0
        t0 = time.perf_counter()
        moment = f"2026-12-01T12:{k // 60:02d}:{k % 60:02d}+00:00"  # later than every earlier result
        cmv = coded(pid, "4996-5", answer, moment, oid=f"cmv-{pid}-{k}")
        poster.post(_json(bundle([cmv], "batch")))
        wait(lambda: _alert_after(engine, before), timeout=30, every=0.002)
        latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)
    stop.set()
    loader.join(timeout=60)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"post-to-alert latency over {len(latencies)} alerts, under {half_rate * 20:,.0f} results/s "
          f"(half the maximum): p50 {statistics.median(latencies):.0f} ms, "
          f"p99 {p99:.0f} ms")


def _intake_ceiling(poster: "Poster", investigator: "Poster", args) -> None:
    """The API alone, once no worker runs: what validating and storing cost with evaluation free. No
    pipeline on this machine can go faster. Its own patients, whose results are then left pending."""
    pids = [f"c-{i}" for i in range(args.patients)]
    _post_records(poster, investigator, pids, args.clients)
    bodies = _result_bundles(pids, args.results // 20, "c-hb")
    cpu_before = cpu_by_process()
    start_time = time.perf_counter()
    poster.post_all(bodies, args.clients)
    took = time.perf_counter() - start_time
    print(f"intake ceiling (the API alone, no worker running): {len(bodies) * 20 / took:,.0f} results/s "
          f"({len(bodies) / took:,.0f} bundles/s); CPU: {cpu_spent(cpu_before, cpu_by_process())}")


def _post_records(lab: "Poster", investigator: "Poster", pids: list[str], clients: int) -> None:
    """Setup, not measured: each child's complete record, its attestations from the site's
    investigator (kept until the Patient arrives), then the rest from the lab (contract §13)."""
    records = [eligible_record(pid, DAY) for pid in pids]
    investigator.post_all([_json(bundle(attestations_part(record))) for record in records], clients)
    lab.post_all([_json(bundle(lab_part(record))) for record in records], clients)


def _result_bundles(pids: list[str], count: int, tag: str) -> list[bytes]:
    """``count`` batch Bundles of 20 haemoglobin results each, one child after another."""
    return [_json(bundle([quantity(pids[n % len(pids)], "718-7", 9 + (n + k) % 4, "g/dL", "2026-11-28",
                                   oid=f"{tag}-{n}-{k}") for k in range(20)], "batch"))
            for n in range(count)]


class Poster:
    """Every post of the benchmark: POST /fhir over one kept-alive connection per thread, with the
    standard library's lean HTTP client. The load generator shares the machine's two cores with the
    service, and its own cost (printed as "bench client") should stay small."""

    def __init__(self, host: str, port: int, headers: dict) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.local = threading.local()

    def post(self, body: bytes) -> int:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        connection.request("POST", "/fhir", body=body, headers=self.headers)
        response = connection.getresponse()
        response.read()
        return response.status

    def post_all(self, bodies: list[bytes], clients: int) -> None:
        """Post every body from ``clients`` threads; each must be accepted (202)."""
        with ThreadPoolExecutor(clients) as pool:
            codes = set(pool.map(self.post, bodies))
        assert codes == {202}, codes


def _json(body) -> bytes:
    import json

    return json.dumps(body).encode()


def _up(base) -> bool:
    try:
        return httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _settled(engine) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Patient)
                           .where(Patient.pending_seq > Patient.evaluated_seq)) == 0


def _alert_after(engine, pk) -> bool:
    with engine.connect() as conn:
        return (conn.scalar(select(func.max(Alert.pk))) or 0) > pk


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(text(f"SELECT count(*) FROM {table}"))


if __name__ == "__main__":
    main()
