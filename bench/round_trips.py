"""PostgreSQL round trips per intake message: the statements one 20-result batch Bundle costs, counted.

    python bench/round_trips.py [--bundles 20]

A throw-away database (testkit.services) with 20 registered children; then ``--bundles`` batch Bundles
of 20 haemoglobin results each, posted through ``service/fhir.py::receive_bundle`` as the API does. Each
statement SQLAlchemy sends is counted, and so are the transaction's BEGIN and COMMIT and what is sent
around SQLAlchemy (a COPY of facts, the pipelined claim); the average per bundle is printed, with the
statements of the last one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bootstrap import Runtime  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.identity import Caller  # noqa: E402
from service.commands import ReceiveFhirBundle  # noqa: E402
from service.fhir import receive_bundle  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from testkit import services  # noqa: E402
from testkit.celery_calls import Calls  # noqa: E402
from testkit.fhir_samples import bundle, patient, quantity  # noqa: E402

LAB = Caller("lab", "lab", frozenset({"site-a"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=20)
    args = parser.parse_args()
    name, url = services.create_database()
    try:
        with tempfile.TemporaryDirectory() as home:
            # Tasks are recorded, not sent (testkit.celery_calls): only the intake's statements are counted.
            rt = Runtime(Settings(home=Path(home), today="2026-12-01", database_url=url, dispatch_window_ms=0),
                         celery=Calls())
            upgrade(url)
            try:
                count(rt, args.bundles)
            finally:
                rt.dispose()
    finally:
        services.drop_database(name)


def post(rt, resources: list[dict]):
    raw = json.dumps(bundle(resources, "batch")).encode()
    answer = receive_bundle(ReceiveFhirBundle(raw, "application/fhir+json", LAB), rt.uow(), clock=rt.clock,
                            dispatch=rt.dispatch, protocol=rt.protocol)
    return answer


def count(rt, bundles: int) -> None:
    pids = [f"rt-{n}" for n in range(20)]
    post(rt, [patient(pid) for pid in pids])
    statements: list[str] = []

    @event.listens_for(rt.engine, "before_cursor_execute")
    def _sent(_conn, _cursor, statement, *_rest):
        statements.append(" ".join(statement.split())[:90])

    @event.listens_for(rt.engine, "begin")
    def _begin(_conn):
        # psycopg sends it before the transaction's first statement: a round trip of its own, unless
        # that statement is pipelined.
        statements.append("BEGIN")

    @event.listens_for(rt.engine, "commit")
    def _commit(_conn):
        statements.append("COMMIT")

    @event.listens_for(rt.engine, "rollback")
    def _rollback(_conn):
        statements.append("ROLLBACK")

    import store.intake as intake

    insert_facts = intake._insert_facts

    def _counted(conn, rows):
        statements.append(f"COPY {len(rows)} facts (two round trips)")
        return insert_facts(conn, rows)

    intake._insert_facts = _counted
    claim_pipelined = getattr(intake, "_claim_pipelined", None)  # None: an earlier version, to compare

    def _pipelined(conn, values, ids):
        statements.append("pipeline: claim, lookup by ids, tombstones' chains (one round trip, with the BEGIN)")
        return claim_pipelined(conn, values, ids)

    if claim_pipelined is not None:
        intake._claim_pipelined = _pipelined
    per_bundle, trips = [], []
    for n in range(bundles):
        statements.clear()
        post(rt, [quantity(pids[(n + k) % len(pids)], "718-7", 9 + k % 4, "g/dL", "2026-11-28", oid=f"rt-{n}-{k}")
                  for k in range(20)])
        per_bundle.append(len(statements))
        trips.append(_round_trips(statements))
    print(f"statements per 20-result bundle: {sum(per_bundle) / len(per_bundle):.1f} "
          f"(min {min(per_bundle)}, max {max(per_bundle)}); round trips {sum(trips) / len(trips):.1f}")
    print("the last bundle's:")
    for kind, times in Counter(statements).items():
        print(f"  {times} x {kind}")


def _round_trips(statements: list[str]) -> int:
    """A COPY takes two (its start, then the rows); a BEGIN sent in a pipeline with what follows, none."""
    trips = 0
    for index, statement in enumerate(statements):
        if statement == "BEGIN" and index + 1 < len(statements) and statements[index + 1].startswith("pipeline"):
            continue
        trips += 2 if statement.startswith("COPY") else 1
    return trips


if __name__ == "__main__":
    main()
