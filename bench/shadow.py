"""A shadow run (contract §10) over many stored children on PostgreSQL, screened by Celery workers
(``service.shadow_runs``: chunks sent through Redis, gathered by this process), beside the pure
engine's evaluations/s in the same run. A shadow run evaluates each child twice (active version,
candidate), so children/s ÷ engine evaluations/s is at most 0.5 per process doing the screening: what
is missing from it is the store's share (reading and decoding facts, building records) and the
chunks' travel.

    python -m bench.shadow [--runs 3] [--children 20000]

Each run: a throwaway database on the test PostgreSQL and a Redis database number nobody holds
(testkit/services.py) with --children children,
one ``myocit worker --concurrency=1`` timed, then ``--concurrency=2``. A summary over the runs follows
(median, min-max, spread). Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert

from bench.summary import Figure, summary
from bootstrap import Runtime, install
from config.protocol_files import PROTOCOLS_DIR, load_protocol
from config.settings import Settings
from domain import PatientRecord, evaluate
from ingest.fhir import read_bundle, screening_input
from service import amendments
from service.commands import ShadowAmendment
from service.shadow_runs import ChunkedShadow
from store import codec
from store.migrate import upgrade
from store.models import Fact, Message, Patient
from testkit.fhir_samples import bundle, eligible_record, quantity

AS_OF = date(2026, 12, 1)


def draft(folder: Path) -> Path:
    target = folder / "myocit-bench"
    shutil.copytree(PROTOCOLS_DIR / "myocit-2026-11", target)
    main = target / "protocol.yaml"
    text = main.read_text().replace('version: "2026-11"', 'version: "bench"')
    main.write_text(text.replace("haemoglobin_below_g_dl: 8.0", "haemoglobin_below_g_dl: 10.0"))
    return target


def template(protocol, hb: float):
    resources = [r for r in eligible_record("t", AS_OF) if r.get("code", {}).get("coding", [{}])[0].get("code") != "718-7"]
    resources.append(quantity("t", "718-7", hb, "g/dL", AS_OF.isoformat()))
    _, profile, facts = screening_input(read_bundle(bundle(resources, "collection")), protocol=protocol)
    return profile, facts


def store_children(url: str, n: int, protocol, site: str = "site-a") -> None:
    """``n`` children, one in ten with a haemoglobin the candidate moves, written straight to the tables."""
    engine = create_engine(url)
    kinds = {hb: template(protocol, hb) for hb in (12.1, 9.0)}
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        message = conn.execute(insert(Message).returning(Message.pk), {
            "received_at": now, "channel": "bench", "content_type": "application/fhir+json", "body": "{}",
            "sha256": "0" * 64, "fact_count": 0}).scalar_one()
        for start in range(0, n, 1000):
            rows = [{"id": f"{site}-{i}", "registered": True, "site": site, "birth_date": kinds[12.1][0].birth_date,
                     "sex": kinds[12.1][0].sex.value, "pending_seq": 0, "evaluated_seq": 0}
                    for i in range(start, min(n, start + 1000))]
            pks = conn.execute(insert(Patient).returning(Patient.pk, Patient.id), rows).all()
            facts = []
            for pk, pid in pks:
                _, template_facts = kinds[9.0 if int(pid.rsplit("-", 1)[1]) % 10 == 0 else 12.1]
                for j, fact in enumerate(template_facts):
                    facts.append({"message_pk": message, "patient_pk": pk, "subject_key": f"Patient/{pid}",
                                  "scope": None, "kind": type(fact).__name__, "source": fact.source,
                                  "revision": j, "effective": fact.on, "payload": codec.dump(fact)})
            conn.execute(insert(Fact), facts)
    engine.dispose()


def engine_rate(protocol, seconds: float) -> float:
    profile, facts = template(protocol, 12.1)
    record = PatientRecord.build("t", profile, facts, protocol)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            evaluate(record, protocol, AS_OF)
        n += 100
    return n / (time.perf_counter() - start)


FIGURES = [
    Figure("engine", "engine alone: evaluations/s"),
    Figure("one", "shadow, 1 worker: children/s"),
    Figure("two", "shadow, 2 workers: children/s"),
    Figure("share", "shadow children/s / engine evaluations/s", ".2f", (">=", 0.5)),
    Figure("scale", "shadow 2 workers / 1 worker", ".2f", (">=", 1.6)),
]
ROOT = Path(__file__).resolve().parents[1]


def timed_run(rt, url: str, broker: str, home: Path, candidate, protocol, concurrency: int, children: int) -> float:
    """Children/s of a shadow run on a worker of ``concurrency`` processes (started, warmed, stopped)."""
    env = {**os.environ, "MYOCIT_DATABASE_URL": url, "MYOCIT_BROKER_URL": broker, "MYOCIT_HOME": str(home),
           "MYOCIT_TODAY": AS_OF.isoformat()}
    with open(home / f"worker-{concurrency}.log", "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "myocit.cli", "worker", f"--concurrency={concurrency}",
                                   "--loglevel=WARNING"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        def shadow(site: str) -> dict:
            cmd = ShadowAmendment("bench", AS_OF, site)
            mapper = ChunkedShadow(cmd, rt.uow(), active=rt.protocols.files(),
                                   candidate=(candidate.name, candidate.files), dispatch=rt.dispatch,
                                   clock=rt.clock, lease_seconds=60)
            return amendments.shadow(cmd, rt.uow(), active_version="myocit-2026-11", active=protocol,
                                     candidate=candidate, clock=rt.clock, mapper=mapper)

        shadow("warm")  # the worker up, its processes' protocols loaded
        start = time.perf_counter()
        report = shadow("site-a")
        took = time.perf_counter() - start
        assert report["screened"] == children and len(report["changes"]) == (children + 9) // 10, report["screened"]
        return children / took
    finally:
        worker.terminate()
        worker.wait(60)


def measure(children: int) -> dict[str, float]:
    from testkit import services

    made, url = services.create_database()
    number, broker = services.redis_database()  # a number no other test or benchmark holds now
    try:
        upgrade(url)
        protocol = load_protocol()
        print(f"storing {children:,} children ...", flush=True)
        store_children(url, children, protocol)
        store_children(url, 4 * amendments.BATCH, protocol, site="warm")
        figures = {}
        with tempfile.TemporaryDirectory() as folder:
            candidate = amendments.load_candidate(str(draft(Path(folder))), None)
            rt = Runtime(Settings(database_url=url, broker_url=broker, home=Path(folder), today=AS_OF.isoformat()))
            install(rt)
            for concurrency, key in ((1, "one"), (2, "two")):
                figures[key] = timed_run(rt, url, broker, Path(folder), candidate, protocol, concurrency, children)
                print(f"  shadow, worker of {concurrency}: {children:,} children, {figures[key]:,.0f} children/s",
                      flush=True)
            rt.dispose()
        figures["engine"] = engine_rate(protocol, 2.0)
        print(f"  pure engine (bench/engine.py's evaluate, typical child): {figures['engine']:,.0f} evaluations/s")
        figures["share"] = figures["one"] / figures["engine"]
        figures["scale"] = figures["two"] / figures["one"]
        return figures
    finally:
        services.drop_database(made)
        services.release_redis(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--children", type=int, default=20_000)
    args = parser.parse_args()
    runs = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number} of {args.runs}", flush=True)
        runs.append(measure(args.children))
    print(f"\nsummary over {len(runs)} run(s): median, min-max, spread = (max - min) / median")
    print(summary(FIGURES, runs))


if __name__ == "__main__":
    main()
