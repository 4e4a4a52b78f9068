"""The initial load (contract §7) and HL7 v2 over MLLP (contract §6), each beside the HTTP path it
should keep up with, measured in the same run. Figures are printed, never asserted.

    python bench/import.py [--children 200] [--messages 2000]

1. Import: a Bulk Data export of --children children (NDJSON, one resource a line) loaded with
   ``myocit import``'s use case, then every child screened once: resources/s and children screened/s,
   on the embedded default (SQLite) and on PostgreSQL; beside it, the same resources posted to the
   API alone (POST /fhir, 20 a Bundle, 8 clients, no worker): the intake ceiling of bench/pipeline.py.
2. MLLP (PostgreSQL): --messages ORU^R01 messages over one connection and over 8, to ``myocit mllp
   --processes N`` (--mllp-processes, 2), messages/s and ACK latency p50/p99; beside it, the same
   messages to POST /hl7v2 from 8 clients (``myocit api --workers=2``).

--runs whole measurements (3), each on a fresh database, then a summary: median, min-max, spread.
--mllp-only skips the import.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from bench.summary import Figure, summary  # noqa: E402
from bootstrap import Runtime  # noqa: E402
from config.settings import Settings  # noqa: E402
from service import evaluation  # noqa: E402
from service.commands import EvaluatePatient, ImportResources, RegisterSender  # noqa: E402
from service.imports import import_resources  # noqa: E402
from service.senders import register_sender  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from testkit.fhir_samples import NOT_DETECTED, bundle, coded, eligible_record, lab_part  # noqa: E402
from testkit.celery_calls import Calls  # noqa: E402 - stands in for Celery: the evaluations are run here
from testkit.mllp_client import listening, msa, oru, read_acks  # noqa: E402
from testkit.processes import free_port  # noqa: E402
from mllp.framing import framed  # noqa: E402

DAY = date(2026, 12, 1)
FIGURES = [
    Figure("mllp1", "mllp, 1 connection: messages/s"),
    Figure("mllp8", "mllp, 8 connections: messages/s"),
    Figure("hl7", "post-hl7v2, 8 clients: messages/s"),
    Figure("mllp_share", "mllp / post-hl7v2 messages/s", ".2f", (">=", 1.0)),
    Figure("p99", "mllp, 8 connections: ACK p99, ms", ".1f"),
]
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def export(folder: Path, children: int) -> list[dict]:
    resources: list[dict] = []
    for i in range(children):
        resources += lab_part(eligible_record(f"c-{i:04d}", DAY, with_cmv=False)) + [
            coded(f"c-{i:04d}", "4996-5", NOT_DETECTED, "2026-11-25")]
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, items in by_type.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(json.dumps(r) for r in items) + "\n")
    return resources


def measure_import(settings: Settings, folder: Path, resources: int) -> None:
    rt = Runtime(settings, celery=Calls())
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    started = time.perf_counter()
    report = import_resources(ImportResources((folder,), "site-a"), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                              protocol=rt.protocol)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    for _name, args, _kwargs in rt.celery.sent:
        evaluation.evaluate_patient(EvaluatePatient(args[0], DAY), rt.uow(), protocols=rt.protocols,
                                    clock=rt.clock, dispatch=rt.dispatch)
    screened = time.perf_counter() - started
    assert report.rejected == 0 and report.stored == resources, report.problems[:3]
    print(f"  import: {resources} resources in {loaded:.1f} s -> {resources / loaded:,.0f} resources/s; "
          f"{report.queued} children screened in {screened:.1f} s -> {report.queued / screened:,.0f} children/s")
    rt.dispose()


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "myocit.cli", *args], env=env, cwd=ROOT,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(child: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def token(env: dict, role: str) -> str:
    return subprocess.run([sys.executable, "-m", "myocit.cli", "token", "create", "--role", role, "--site", "site-a"],
                          env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def post_all(port: int, headers: dict, path: str, bodies: list[bytes], clients: int) -> float:
    local = threading.local()

    def post(body: bytes) -> int:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        codes = set(pool.map(post, bodies))
    assert codes == {202}, codes
    return time.perf_counter() - started


def measure_api(env: dict, resources: list[dict], workdir: Path) -> None:
    port = free_port()
    api = start(["api", f"--port={port}", "--workers=2"], env, workdir / "api.log")
    try:
        wait_http(port)
        headers = {"Authorization": f"Bearer {token(env, 'lab')}", "Content-Type": "application/fhir+json"}
        bodies = [json.dumps(bundle(resources[i:i + 20], "batch")).encode() for i in range(0, len(resources), 20)]
        took = post_all(port, headers, "/fhir", bodies, 8)
        print(f"  POST /fhir, the API alone (20 a Bundle, 8 clients): {len(resources) / took:,.0f} resources/s")
    finally:
        stop(api)


def wait_http(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the API did not start")


def mllp_run(port: int, messages: list[bytes], connections: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(chunk: list[bytes]) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            for message in chunk:
                sent = time.perf_counter()
                sock.sendall(message)
                [ack] = read_acks(sock, 1)
                assert msa(ack)[0] == "AA", ack
                with lock:
                    latencies.append((time.perf_counter() - sent) * 1000)

    chunks = [messages[i::connections] for i in range(connections)]
    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, chunks))
    return time.perf_counter() - started, sorted(latencies)


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def measure_mllp(env: dict, url: str, count: int, workdir: Path, processes: int = 2) -> dict[str, float]:
    settings = Settings(database_url=url, broker_url=env["MYOCIT_BROKER_URL"], home=workdir, today=DAY)
    rt = Runtime(settings, celery=Calls())
    register_sender(RegisterSender("LIS", "LAB", ("site-a",), "bench"), rt.uow(), clock=rt.clock)
    rt.dispose()
    port, api_port = free_port(), free_port()
    listener = start(["mllp", f"--port={port}", f"--processes={processes}"], env, workdir / "mllp.log")
    api = start(["api", f"--port={api_port}", "--workers=2"], env, workdir / "api-hl7.log")
    try:
        wait_http(api_port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not listening(port):
            time.sleep(0.2)

        def messages(tag: str) -> list[str]:
            return [oru(f"m-{n % 200:04d}", 2.0 + n % 3, f"{tag}-{n}") for n in range(count)]

        figures = {}
        for connections in (1, 8):
            took, latencies = mllp_run(port, [framed(m.encode()) for m in messages(f"M{connections}")], connections)
            figures[f"mllp{connections}"] = count / took
            print(f"  MLLP ({processes} processes), {connections} connection(s): {count / took:,.0f} messages/s; "
                  f"ACK latency p50 {statistics.median(latencies):.1f} ms, p99 {p99(latencies):.1f} ms", flush=True)
        figures["p99"] = p99(latencies)
        headers = {"Authorization": f"Bearer {token(env, 'lab')}", "Content-Type": "x-application/hl7-v2+er7"}
        took = post_all(api_port, headers, "/hl7v2", [m.encode() for m in messages("H")], 8)
        figures["hl7"] = count / took
        figures["mllp_share"] = figures["mllp8"] / figures["hl7"]
        print(f"  POST /hl7v2, 8 clients: {count / took:,.0f} messages/s", flush=True)
        return figures
    finally:
        stop(listener)
        stop(api)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mllp-processes", type=int, default=2)
    parser.add_argument("--mllp-only", action="store_true", help="skip the import")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    runs = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number} of {args.runs}", flush=True)
        runs.append(measure(args))
    print(f"\nsummary over {len(runs)} run(s): median, min-max, spread = (max - min) / median")
    print(summary(FIGURES, runs))


def measure(args) -> dict[str, float]:
    from testkit import services

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        embedded_env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")}
        embedded_env.update(MYOCIT_HOME=str(workdir / "embedded-api"), MYOCIT_TODAY=DAY.isoformat())
        resources = export(workdir / "export", args.children)
        if not args.mllp_only:
            print(f"import of {args.children} children ({len(resources)} resources), embedded default (SQLite):")
            measure_import(Settings(home=workdir / "embedded", today=DAY), workdir / "export", len(resources))
            measure_api(embedded_env, resources, workdir)

        name = f"myocit_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1/{name}"
        number, broker = services.redis_database()  # a number no other test or benchmark holds now
        env = {**embedded_env, "MYOCIT_DATABASE_URL": url, "MYOCIT_BROKER_URL": broker, "MYOCIT_HOME": str(workdir)}
        try:
            if not args.mllp_only:
                print("import, PostgreSQL + Redis:")
                measure_import(Settings(database_url=url, broker_url=broker, home=workdir, today=DAY),
                               workdir / "export", len(resources))
                with psycopg.connect(ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{name}"')
            upgrade(url)
            if not args.mllp_only:
                measure_api(env, resources, workdir)
            print(f"HL7 v2, {args.messages} ORU^R01 messages, PostgreSQL:")
            return measure_mllp(env, url, args.messages, workdir, args.mllp_processes)
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            services.release_redis(number)


if __name__ == "__main__":
    main()
