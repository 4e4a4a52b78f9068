"""A shadow run (contract §10) over many stored children on PostgreSQL: patients/s with --jobs 1 and
--jobs 2, beside the pure engine's evaluations/s in the same run. A shadow run evaluates each child
twice (active version, candidate), so the ratio printed is patients/s × 2 ÷ engine evaluations/s:
what is left after 1 is the store's share of the cost (reading and decoding facts, building records).

    python -m bench.shadow [--children 20000] [--database-url postgresql+psycopg://...]

Without --database-url a throwaway database is made on the test PostgreSQL (testkit/services.py). Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert

from bootstrap import Runtime, install
from bootstrap.shadow_pool import pool_mapper
from config.protocol_files import PROTOCOLS_DIR, load_protocol
from config.settings import Settings
from domain import PatientRecord, evaluate
from ingest.fhir import read_bundle, screening_input
from service import amendments
from service.commands import ShadowAmendment
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


def store_children(url: str, n: int, protocol) -> None:
    """``n`` children, one in ten with a haemoglobin the candidate moves, written straight to the tables."""
    engine = create_engine(url)
    kinds = {hb: template(protocol, hb) for hb in (12.1, 9.0)}
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        message = conn.execute(insert(Message).returning(Message.pk), {
            "received_at": now, "channel": "bench", "content_type": "application/fhir+json", "body": "{}",
            "sha256": "0" * 64, "fact_count": 0}).scalar_one()
        for start in range(0, n, 1000):
            rows = [{"id": f"bench-{i}", "registered": True, "site": "site-a", "birth_date": kinds[12.1][0].birth_date,
                     "sex": kinds[12.1][0].sex.value, "pending_seq": 0, "evaluated_seq": 0}
                    for i in range(start, min(n, start + 1000))]
            pks = conn.execute(insert(Patient).returning(Patient.pk, Patient.id), rows).all()
            facts = []
            for pk, pid in pks:
                _, template_facts = kinds[9.0 if int(pid.split("-")[1]) % 10 == 0 else 12.1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    made = None
    url = args.database_url
    if url is None:
        from testkit import services

        made, url = services.create_database()
    try:
        upgrade(url)
        protocol = load_protocol()
        print(f"storing {args.children:,} children ...", flush=True)
        store_children(url, args.children, protocol)
        with tempfile.TemporaryDirectory() as folder:
            candidate = amendments.load_candidate(str(draft(Path(folder))), None)
            rt = Runtime(Settings(database_url=url, home=Path(folder), today=AS_OF.isoformat()))
            install(rt)
            rates = {}
            for jobs in (1, 2):
                start = time.perf_counter()
                report = amendments.shadow(ShadowAmendment("bench", AS_OF), rt.uow(), active_version="myocit-2026-11",
                                           active=protocol, candidate=candidate, clock=rt.clock,
                                           mapper=pool_mapper(jobs, protocol, candidate.protocol, AS_OF))
                rates[jobs] = report["screened"] / (time.perf_counter() - start)
                print(f"shadow --jobs {jobs}: {report['screened']:,} children, {len(report['changes']):,} would move, "
                      f"{rates[jobs]:,.0f} patients/s")
            rt.dispose()
        pure = engine_rate(protocol, 2.0)
        print(f"pure engine (bench/engine.py's evaluate, typical child): {pure:,.0f} evaluations/s")
        for jobs, r in rates.items():
            print(f"ratio --jobs {jobs}: {2 * r / pure:.2f} of the engine's rate (2 evaluations per patient); "
                  f"the store's share of the cost ≈ {1 - 2 * r / pure:.0%}")
    finally:
        if made is not None:
            from testkit import services

            services.drop_database(made)


if __name__ == "__main__":
    main()
