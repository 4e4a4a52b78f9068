"""End-to-end pipeline throughput and alert latency on PostgreSQL + Redis, side by side with what bounds them.

    python bench/pipeline.py [--runs 3] [--results 20000] [--latency-samples 200] [--throughput-only]

Each run has a fresh database and its own processes (the API with --api-workers uvicorn processes, a
Celery worker with two), and measures in turn:

1. Pipeline throughput: lab results posted over HTTP in 20-result batch Bundles by concurrent clients
   (--clients), timed from the first post until every patient's screening is committed.
2. Latency: post-to-alert time of a CMV result flipping an eligible child, p50 and p99, under a
   background load of half the pipeline's rate.
3. Intake ceiling: the same kind of posts to the API alone once the worker is stopped (evaluation
   free): the upper bound of any pipeline on this machine.
4. Raw-storage limit: the intake ceiling's very bundles (same bytes, same clients, same HTTP client)
   posted to bench/raw_storage.py, a bare ASGI app run by uvicorn with as many processes as the API,
   which parses each body as JSON and COPYs one row per Observation into a table made like ``facts``,
   one transaction per request. The ceiling's share of it is what myocit's own intake work leaves of
   the bare cost of receiving and storing results.
6. Embedded against PostgreSQL: ``myocit run`` on its defaults (SQLite, the SQLite broker) and on
   PostgreSQL + Redis, each given the same burst of --burst children's records by the same clients;
   children screened per second, from the burst's first post until none is pending.
5. Baseline: a bare Celery task (read one row, update it, insert one row) on the same PostgreSQL and
   Redis, tasks per second with two worker processes; the pipeline's bundles per second are compared
   with it.

Then a summary over the runs: each figure's median, min-max and spread, each target judged on the median.
Every timed phase prints where the machine's CPU went, by process group (bench/machine.py), and the
summary how much of it other programs took (on a shared machine, the figures they touched understate).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
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

from bench import raw_storage  # noqa: E402
from bench.machine import cpu_by_process, cpu_spent, describe, foreign_cpu  # noqa: E402
from bench.summary import Figure, summary  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Alert, Patient  # noqa: E402
from testkit.fhir_samples import (  # noqa: E402
    DETECTED,
    NOT_DETECTED,
    attestations_part,
    bundle,
    coded,
    eligible_record,
    lab_part,
    quantity,
)
from testkit.processes import free_port, stop_group  # noqa: E402

DAY = date(2026, 12, 1)
ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
PER_BUNDLE = 20
BASELINE_TASKS = 4000
RAW_SECONDS = 3.0
"""The raw-storage app takes the intake ceiling's bundles in about a quarter of its time: it is given
them again, whole, until this long has passed, for a figure as steady as the ceiling's."""

FIGURES = [
    Figure("ceiling", "intake ceiling: API alone, results/s"),
    Figure("raw", "raw-storage limit: JSON + COPY, results/s"),
    Figure("ceiling_share", "intake ceiling / raw-storage limit", ".2f", (">=", 0.5)),
    Figure("pipeline", "pipeline: results/s, all screened", target=(">=", 5000)),
    Figure("pipeline_share", "pipeline / intake ceiling", ".2f", (">=", 0.8)),
    Figure("bundles", "pipeline: bundles/s"),
    Figure("baseline", "baseline: bare Celery task, tasks/s"),
    Figure("baseline_share", "pipeline bundles/s / baseline tasks/s", ".2f", (">=", 0.5)),
    Figure("p50", "post-to-alert p50 at half rate, ms"),
    Figure("p99", "post-to-alert p99 at half rate, ms", target=("<", 250)),
    Figure("embedded", "embedded: children screened/s after a burst"),
    Figure("postgresql", "postgresql: children screened/s after a burst"),
    Figure("embedded_share", "embedded / postgresql screening rate", ".2f", (">=", 0.25)),
    Figure("foreign", "CPU taken by other programs while timed, %"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="whole measurements, each on a fresh database")
    parser.add_argument("--results", type=int, default=20000, help="lab results per throughput phase")
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--latency-samples", type=int, default=200,
                        help="alerts timed (at least 100 for a p99 that is not the maximum)")
    parser.add_argument("--redis-db", type=int, default=None)
    parser.add_argument("--api-workers", type=int, default=2,
                        help="uvicorn worker processes (the API's and the raw-storage app's)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency and baseline phases")
    parser.add_argument("--burst", type=int, default=600, help="children posted at once to `myocit run`")
    parser.add_argument("--embedded-only", action="store_true",
                        help="only the embedded against PostgreSQL phase")
    parser.add_argument("--no-embedded", dest="embedded", action="store_false",
                        help="skip the embedded against PostgreSQL phase")
    parser.add_argument("--no-intake-ceiling", dest="intake_ceiling", action="store_false",
                        help="skip the phases that post to the API alone and to the raw-storage app")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"{args.runs} run(s) of {args.results:,} results in {PER_BUNDLE}-result bundles, "
          f"{args.clients} clients, {args.api_workers} API processes, 2 worker processes", flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number} of {args.runs}", flush=True)
        started = time.perf_counter()
        with Run(args) as run:
            runs.append(measure(run, args))
        print(f"  run {number} took {time.perf_counter() - started:.0f}s", flush=True)
    print(f"\nsummary over {len(runs)} run(s): median, min-max, spread = (max - min) / median; "
          f"targets judged on the median")
    print(summary(FIGURES, runs))


class Run:
    """One run's database, broker, tokens and processes; closing it stops every process it started and
    drops the database."""

    def __init__(self, args) -> None:
        self.name = f"myocit_bench_{uuid.uuid4().hex[:8]}"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1/{self.name}"
        self.dsn = f"host=127.0.0.1 user=postgres dbname={self.name}"
        from testkit import services

        # A Redis database number no other test or benchmark holds now (``--redis-db`` forces one).
        self.redis_number, self.broker = (None, f"redis://127.0.0.1:6379/{args.redis_db}") if args.redis_db \
            else services.redis_database()
        self.logs = Path(f"/tmp/{self.name}")
        self.env = {**os.environ, "MYOCIT_DATABASE_URL": self.url, "MYOCIT_BROKER_URL": self.broker,
                    "MYOCIT_TODAY": DAY.isoformat(), "MYOCIT_HOME": str(self.logs),
                    "BENCH_DATABASE_URL": self.url, "BENCH_BROKER_URL": self.broker,
                    "BENCH_RAW_DSN": self.dsn}
        self.processes: dict[str, subprocess.Popen] = {}
        self.engine = None
        self.foreign = self.capacity = 0.0  # CPU seconds: other programs' while timed, and the cores'

    def __enter__(self) -> "Run":
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        upgrade(self.url)
        self.logs.mkdir(exist_ok=True)
        self.engine = create_engine(self.url)
        import redis

        redis.Redis.from_url(self.broker).flushdb()
        return self

    def __exit__(self, *_exc) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.engine is not None:
            self.engine.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.redis_number is not None:
            from testkit import services

            services.release_redis(self.redis_number)

    def start(self, name: str, command: list[str]) -> None:
        """Start ``command`` (a process group of its own, its output in the run's logs) as ``name``."""
        with open(self.logs / f"{name.replace(' ', '-')}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, name: str) -> None:
        """SIGTERM to the process alone (a Celery worker then stops its pool after the tasks in hand;
        uvicorn its worker processes), then, if it is still there after 30 s, its whole group."""
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            stop_group(process, timeout=10)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far, this run's processes by name, the rest of the machine by kind."""
        return cpu_by_process({p.pid: name for name, p in self.processes.items()}, database=self.name)

    def cpu_used(self, before: dict[str, float], took: float) -> str:
        """Where the CPU went since ``before``, a timed phase of ``took`` seconds, and what other
        programs of the machine took of it (added to the run's tally: ``foreign_share``)."""
        after = self.cpu()
        foreign = foreign_cpu(before, after)
        self.foreign += foreign
        self.capacity += took * (os.cpu_count() or 1)
        share = foreign / (took * (os.cpu_count() or 1))
        note = f"; other programs took {share:.0%} of the machine" if share >= 0.05 else ""
        return f"{cpu_spent(before, after)}{note}"

    def foreign_share(self) -> float:
        """Percent of the machine's CPU that other programs took during the run's timed phases."""
        return 100 * self.foreign / self.capacity if self.capacity else 0.0

    def token(self, role: str) -> dict:
        made = subprocess.run([sys.executable, "-m", "myocit.cli", "token", "create", "--role", role,
                               "--site", "site-a"], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        return {"Authorization": f"Bearer {made}", "Content-Type": "application/fhir+json"}


def measure(run: Run, args) -> dict[str, float]:
    """Every phase of one run, in order; the figures it measured, by ``FIGURES`` key."""
    figures = {} if args.embedded_only else _pipeline(run, args)
    if args.embedded:
        figures["embedded"] = _burst_rate(run, args, embedded=True)
        figures["postgresql"] = _burst_rate(run, args, embedded=False)
        figures["embedded_share"] = figures["embedded"] / figures["postgresql"]
        print(f"  ratio: embedded / postgresql screening rate {figures['embedded_share']:.2f} (target >= 0.25)",
              flush=True)
    figures["foreign"] = run.foreign_share()
    return figures


def _burst_rate(run: Run, args, *, embedded: bool) -> float:
    """Children screened per second by ``myocit run`` on its defaults (``embedded``) or on the run's
    PostgreSQL and Redis, from the first post of a burst of ``args.burst`` children until none is
    pending."""
    kind = "embedded" if embedded else "postgresql"
    home = run.logs / f"run-{kind}"
    env = {k: v for k, v in run.env.items() if not k.startswith("MYOCIT_")} | {
        "MYOCIT_HOME": str(home), "MYOCIT_TODAY": DAY.isoformat()}
    if not embedded:
        env |= {"MYOCIT_DATABASE_URL": run.url, "MYOCIT_BROKER_URL": run.broker}
    myocit = [sys.executable, "-m", "myocit.cli"]

    def token(role: str) -> dict:
        made = subprocess.run([*myocit, "token", "create", "--role", role, "--site", "site-a"], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        return {"Authorization": f"Bearer {made}", "Content-Type": "application/fhir+json"}

    lab, investigator = token("lab"), token("investigator")
    port = free_port()
    with open(run.logs / f"run-{kind}.log", "ab") as log:
        service = subprocess.Popen([*myocit, "run", f"--port={port}", "--mllp-port=0"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    engine = run.engine if not embedded else create_engine(f"sqlite:///{home / 'myocit.sqlite'}")
    try:
        wait(lambda: _up(f"http://127.0.0.1:{port}/openapi.json"), timeout=120)
        poster, attester = Poster("127.0.0.1", port, lab), Poster("127.0.0.1", port, investigator)
        pids = [f"{kind}-{i}" for i in range(args.burst)]
        before = run.cpu()
        started = time.perf_counter()
        _post_records(poster, attester, pids, args.clients)
        posted = time.perf_counter() - started
        wait(lambda: _settled(engine), timeout=1800, every=0.2)
        took = time.perf_counter() - started
        rate = args.burst / took
        print(f"  {kind}: `myocit run` on its defaults, a burst of {args.burst} children posted in {posted:.1f}s, "
              f"all screened after {took:.1f}s -> {rate:,.1f} children/s", flush=True)
        print(f"    CPU: {run.cpu_used(before, took)}", flush=True)
        return rate
    finally:
        stop_group(service, timeout=30)
        if embedded:
            engine.dispose()


def _pipeline(run: Run, args) -> dict[str, float]:
    """The pipeline, latency, intake ceiling, raw-storage and baseline phases."""
    lab, investigator = run.token("lab"), run.token("investigator")  # attestations come from the investigator
    port = free_port()
    myocit = [sys.executable, "-m", "myocit.cli"]
    run.start("api", [*myocit, "api", "--port", str(port), f"--workers={args.api_workers}"])
    run.start("worker", [*myocit, "worker", "--concurrency=2", "--loglevel=WARNING"])
    wait(lambda: _up(f"http://127.0.0.1:{port}/openapi.json"), timeout=60)
    poster, attester = Poster("127.0.0.1", port, lab), Poster("127.0.0.1", port, investigator)
    figures: dict[str, float] = {}

    pids = [f"b-{i}" for i in range(args.patients)]
    _post_records(poster, attester, pids, args.clients)
    wait(lambda: _settled(run.engine))
    figures["pipeline"], figures["bundles"] = _throughput(run, poster, pids, args)
    if not args.throughput_only:
        figures["p50"], figures["p99"] = _latency(poster, run.engine, pids, figures["bundles"] / 2,
                                                  args.latency_samples)
    run.stop("worker")
    if args.intake_ceiling:
        bodies = _result_bundles([f"c-{i}" for i in range(args.patients)], args.results // PER_BUNDLE, "c-hb")
        figures["ceiling"] = _intake_ceiling(run, poster, attester, bodies, args)
        run.stop("api")
        figures["raw"] = _raw_storage_limit(run, lab, bodies, args)
        figures["ceiling_share"] = figures["ceiling"] / figures["raw"]
        figures["pipeline_share"] = figures["pipeline"] / figures["ceiling"]
        print(f"  ratios: intake ceiling / raw-storage limit {figures['ceiling_share']:.2f} (target >= 0.5); "
              f"pipeline / intake ceiling {figures['pipeline_share']:.2f} (target >= 0.8)", flush=True)
    if not args.throughput_only:
        figures["baseline"] = _baseline(run)
        figures["baseline_share"] = figures["bundles"] / figures["baseline"]
        print(f"  ratio: pipeline bundles/s / baseline tasks/s {figures['baseline_share']:.2f} "
              f"(target >= 0.5)", flush=True)
    return figures


def _throughput(run: Run, poster: "Poster", pids: list[str], args) -> tuple[float, float]:
    """Results and bundles per second through the whole pipeline: from the first post until no patient
    is pending (every result stored and its child's screening committed)."""
    bodies = _result_bundles(pids, args.results // PER_BUNDLE, "hb")
    evaluations_before = _count(run.engine, "screenings")
    cpu_before = run.cpu()
    start_time = time.perf_counter()
    poster.post_all(bodies, args.clients)
    posted = time.perf_counter() - start_time
    wait(lambda: _settled(run.engine))
    total = time.perf_counter() - start_time
    cpu = run.cpu_used(cpu_before, total)
    results = len(bodies) * PER_BUNDLE
    print(f"  pipeline: {results:,} results in {len(bodies)} bundles posted in {posted:.1f}s, all screened "
          f"in {total:.1f}s -> {results / total:,.0f} results/s ({len(bodies) / total:,.0f} bundles/s)")
    print(f"    CPU ({total:.1f}s x {os.cpu_count()} cores): {cpu}")
    evaluations = _count(run.engine, "screenings") - evaluations_before
    print(f"    evaluations: {evaluations} for {len(bodies)} bundles "
          f"(a patient's pending results share one evaluation)", flush=True)
    return results / total, len(bodies) / total


def _latency(poster: "Poster", engine, pids, half_rate: float, samples: int) -> tuple[float, float]:
    """Post-to-alert time in ms (p50, p99) of a CMV result that flips a child's status, sampled one at
    a time under a background load of ``half_rate`` bundles per second (half the pipeline's rate)."""
    stop = threading.Event()

    def background() -> None:
        n = 0
        while not stop.is_set():
            pid = pids[n % len(pids)]
            results = [quantity(pid, "718-7", 10, "g/dL", "2026-11-29", oid=f"bg-{n}-{k}")
                       for k in range(PER_BUNDLE)]
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
    p50, p99 = statistics.median(latencies), latencies[math.ceil(len(latencies) * 0.99) - 1]  # nearest rank
    print(f"  post-to-alert latency over {len(latencies)} alerts under {half_rate * PER_BUNDLE:,.0f} "
          f"results/s (half the pipeline's rate): p50 {p50:.0f} ms, p99 {p99:.0f} ms (target < 250 ms)",
          flush=True)
    return p50, p99


def _intake_ceiling(run: Run, poster: "Poster", attester: "Poster", bodies: list[bytes], args) -> float:
    """Results per second into the API alone, once no worker runs: what validating and storing cost
    with evaluation free. No pipeline on this machine can go faster. Its own patients (``c-``), whose
    results are then left pending."""
    _post_records(poster, attester, [f"c-{i}" for i in range(args.patients)], args.clients)
    cpu_before = run.cpu()
    start_time = time.perf_counter()
    poster.post_all(bodies, args.clients)
    took = time.perf_counter() - start_time
    rate = len(bodies) * PER_BUNDLE / took
    print(f"  intake ceiling (the API alone, no worker running): {rate:,.0f} results/s "
          f"({len(bodies) / took:,.0f} bundles/s, {took:.1f}s)")
    print(f"    CPU: {run.cpu_used(cpu_before, took)}", flush=True)
    return rate


def _raw_storage_limit(run: Run, headers: dict, bodies: list[bytes], args) -> float:
    """Results per second into bench/raw_storage.py (JSON parse + COPY of one row per result, one
    transaction per request), the intake ceiling's bundles posted the same way: the bare cost of
    receiving and storing them on this machine. The API is stopped first, so the two never share it."""
    raw_storage.create_table(run.dsn)
    port = free_port()
    run.start("raw storage", [sys.executable, "-m", "uvicorn", "bench.raw_storage:app", "--host", "127.0.0.1",
                              "--port", str(port), f"--workers={args.api_workers}", "--log-level", "warning",
                              "--no-access-log"])
    wait(lambda: _up(f"http://127.0.0.1:{port}/"), timeout=60)
    poster = Poster("127.0.0.1", port, headers)
    warm_up = bodies[:args.clients * 4]  # each process opens its connections on its first requests
    poster.post_all(warm_up, args.clients)
    cpu_before = run.cpu()
    start_time, passes = time.perf_counter(), 0
    while passes == 0 or time.perf_counter() - start_time < RAW_SECONDS:
        poster.post_all(bodies, args.clients)
        passes += 1
    took = time.perf_counter() - start_time
    cpu = run.cpu_used(cpu_before, took)
    run.stop("raw storage")
    stored = raw_storage.count(run.dsn)
    assert stored == (len(warm_up) + passes * len(bodies)) * PER_BUNDLE, stored
    rate = passes * len(bodies) * PER_BUNDLE / took
    print(f"  raw-storage limit (JSON + COPY, {args.api_workers} uvicorn processes): {rate:,.0f} results/s "
          f"({passes * len(bodies) / took:,.0f} bundles/s; the ceiling's bundles {passes} times, "
          f"{took:.1f}s)")
    print(f"    CPU: {cpu}", flush=True)
    return rate


def _baseline(run: Run) -> float:
    """Tasks per second of a bare Celery task (read one row, update it, insert one row) with two
    worker processes on the same PostgreSQL and Redis: what a task costs before any of myocit's work."""
    with run.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_counter (id int primary key, n int)"))
        conn.execute(text("CREATE TABLE bench_log (id serial primary key, counter int)"))
        conn.execute(text("INSERT INTO bench_counter SELECT g, 0 FROM generate_series(1, 100) g"))
    os.environ.update(BENCH_BROKER_URL=run.broker, BENCH_DATABASE_URL=run.url)
    from bench.baseline_tasks import app as baseline_app

    run.start("baseline worker", [sys.executable, "-m", "celery", "-A", "bench.baseline_tasks", "worker",
                                  "--concurrency=2", "--loglevel=WARNING", "-Q", "baseline"])
    baseline_app.send_task("baseline.touch", args=[1])  # warm-up: the timing starts with a ready worker
    wait(lambda: _count(run.engine, "bench_log") >= 1, timeout=120)
    cpu_before = run.cpu()
    t0 = time.perf_counter()
    for i in range(BASELINE_TASKS):
        baseline_app.send_task("baseline.touch", args=[i % 100 + 1])
    wait(lambda: _count(run.engine, "bench_log") >= BASELINE_TASKS + 1)
    took = time.perf_counter() - t0
    cpu = run.cpu_used(cpu_before, took)
    run.stop("baseline worker")
    print(f"  baseline: bare Celery task (read, update, insert) {BASELINE_TASKS / took:,.0f} tasks/s "
          f"with 2 processes ({took:.1f}s)")
    print(f"    CPU: {cpu}", flush=True)
    return BASELINE_TASKS / took


def _post_records(lab: "Poster", investigator: "Poster", pids: list[str], clients: int) -> None:
    """Setup, not measured: each child's complete record, its attestations from the site's
    investigator (kept until the Patient arrives), then the rest from the lab (contract §13)."""
    records = [eligible_record(pid, DAY) for pid in pids]
    investigator.post_all([_json(bundle(attestations_part(record))) for record in records], clients)
    lab.post_all([_json(bundle(lab_part(record))) for record in records], clients)


def _result_bundles(pids: list[str], count: int, tag: str) -> list[bytes]:
    """``count`` batch Bundles of 20 haemoglobin results each, one child after another."""
    return [_json(bundle([quantity(pids[n % len(pids)], "718-7", 9 + (n + k) % 4, "g/dL", "2026-11-28",
                                   oid=f"{tag}-{n}-{k}") for k in range(PER_BUNDLE)], "batch"))
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


def wait(predicate, timeout=600, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    raise TimeoutError


def _json(body) -> bytes:
    return json.dumps(body).encode()


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
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
