"""The screening log and funnel (contract §8) at scale on PostgreSQL: the time to answer both for
20,000 children, beside a plain ``SELECT count(*)`` over the same children's screenings in the same run
(the floor). Prints figures; asserts nothing about time.

    python bench/screening_log.py [--children 20000] [--repeat 5] [--runs 3]

Each run: a fresh database (dropped after); rows are inserted directly in bulk: each child has a first
and a latest screening (results of 34 criteria, like the evaluator's), half have an outcome, one in ten
eligible children a confirmation, and its maintained log row (``store.log_rows``, as the store keeps
it: recomputed from those rows). Each query is timed --repeat times and its median kept; a summary over
the runs follows (median, min-max, spread), the targets judged on the median: the log and the funnel
within 10 times the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.criteria import CRITERIA  # noqa: E402
from bench.summary import Figure, summary  # noqa: E402
from service.screening_log import funnel, screening_log_csv, screening_log_rows  # noqa: E402
from store.log_rows import recomputed  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.screening import compact  # noqa: E402
from store.models import ApiToken, Confirmation, LogRow, Patient, ScreeningRow, ScreeningOutcome  # noqa: E402
from domain.identity import Caller  # noqa: E402
from store.uow import UnitOfWork  # noqa: E402

ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
STATUSES = ("eligible", "waiting", "incomplete", "ineligible")
VERDICT_OF = {"eligible": "pass", "waiting": "fail", "incomplete": "unknown", "ineligible": "fail"}


class FixedClock:
    def now(self):
        return NOW

    def today(self):
        return DAY


def result(pid: str, status: str, n: int) -> dict:
    criteria = []
    for i, c in enumerate(CRITERIA):
        verdict = VERDICT_OF[status] if i == n % 34 else ("review" if status == "incomplete" and i == 3 else "pass")
        criteria.append({"id": c.id, "kind": c.kind.value, "verdict": verdict,
                         "until": "2026-12-19" if status == "waiting" and verdict == "fail" else None,
                         "reason": f"{c.id}: the latest result of 2026-11-28 decides it (bench row {n})",
                         "evidence": [{"resource": f"Observation/obs-{n}-{i}", "date": "2026-11-28"}]})
    return {"patient": pid, "protocol": "MYOCIT", "protocol_version": "2026-11", "as_of": DAY.isoformat(),
            "status": status, "eligible_from": "2026-12-19" if status == "waiting" else None,
            "eligible_until": "2035-01-14" if status in ("eligible", "waiting") else None,
            "next_review_at": None, "criteria": criteria}


def fill(engine, children: int) -> None:
    with engine.begin() as conn:
        token_pk = conn.execute(insert(ApiToken).returning(ApiToken.pk), {
            "token_hash": "0" * 64, "role": "investigator", "sites": ["site-a"], "name": "bench", "created_at": NOW,
        }).scalar_one()
        batch = 2000
        for start in range(0, children, batch):
            rows = [{"id": f"b-{n:06d}", "registered": True, "site": "site-a" if n % 4 else "site-b",
                     "birth_date": date(2016, 1, 15), "sex": "male", "pending_seq": 1, "evaluated_seq": 1,
                     "status": STATUSES[n % 4], "as_of": DAY} for n in range(start, min(start + batch, children))]
            pks = conn.execute(insert(Patient).returning(Patient.pk, Patient.id), rows).all()
            screenings = []
            for pk, pid in pks:
                n = int(pid[2:])
                for k, status in enumerate((STATUSES[(n + 1) % 4], STATUSES[n % 4])):
                    body = result(pid, status, n)
                    eligible = body["eligible_from"]
                    # As evaluation stores them (store.screening.add_screening): compact verdicts beside.
                    screenings.append({"patient_pk": pk, "created_at": NOW + timedelta(minutes=k),
                                       "as_of": DAY - timedelta(days=1 - k), "status": status,
                                       "protocol_version": "2026-11", "result": body,
                                       "fact_pks": [], "trigger": "data", "verdicts": compact(body["criteria"]),
                                       "eligible_from": date.fromisoformat(eligible) if eligible else None,
                                       "eligible_until": date.fromisoformat(body["eligible_until"])
                                       if body["eligible_until"] else None})
            conn.execute(insert(ScreeningRow), screenings)
            latest = conn.execute(text("SELECT patient_pk, max(pk), min(status) FROM screenings "
                                       "WHERE patient_pk = ANY(:pks) GROUP BY patient_pk"),
                                  {"pks": [pk for pk, _ in pks]}).all()
            outcomes = [{"patient_pk": pk, "outcome": ("approached", "declined", "enrolled", "not-approached")[pk % 4],
                         "reason": "bench", "recorded_by": "bench", "recorded_at": NOW, "recorded_on": DAY}
                        for pk, _ in pks if pk % 2]
            if outcomes:
                conn.execute(insert(ScreeningOutcome), outcomes)
            signed = [{"patient_pk": pk, "screening_pk": spk, "token_pk": token_pk, "signer_name": "bench",
                       "role": "investigator", "site": "site-a", "signed_at": NOW, "meaning": "bench",
                       "as_of": DAY, "protocol_version": "2026-11", "sha256": "0" * 64}
                      for pk, spk, _ in latest if pk % 10 == 0]
            if signed:
                conn.execute(insert(Confirmation), signed)
    with sessionmaker(engine)() as session:
        rows = [{"patient_pk": pk} | row for pk, row in recomputed(session).items()]
        session.execute(insert(LogRow), rows)
        session.execute(text("ANALYZE"))
        session.commit()


def timed(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


FIGURES = [
    Figure("count", "SELECT count(*) over the screenings (floor), s", ".3f"),
    Figure("log", "GET /screening-log, all sites (CSV), s", ".3f"),
    Figure("log_site", "GET /screening-log, one site (3/4 of children), s", ".3f"),
    Figure("funnel", "GET /funnel, all sites, s", ".3f"),
    Figure("funnel_day", "GET /funnel, period of one day, s", ".3f"),
    Figure("log_x", "log / count(*)", ".1f", ("<=", 10)),
    Figure("log_site_x", "log of one site / count(*)", ".1f", ("<=", 10)),
    Figure("funnel_x", "funnel / count(*)", ".1f", ("<=", 10)),
]


def measure(children: int, repeat: int) -> dict[str, float]:
    name = f"myocit_bench_log_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1/{name}"
    engine = create_engine(url)
    try:
        upgrade(url)
        start = time.perf_counter()
        fill(engine, children)
        print(f"filled {children} children (2 screenings each) in {time.perf_counter() - start:.1f} s", flush=True)
        uow, clock = UnitOfWork(sessionmaker(engine)), FixedClock()
        admin, coordinator = Caller("bench", "admin"), Caller("bench", "coordinator", frozenset({"site-a"}))

        def count():
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM screenings s JOIN patients p ON p.pk = s.patient_pk")).scalar()

        rows = screening_log_rows(admin, uow, clock=clock)
        assert len(rows) == children  # a check of the fill, not of time
        assert funnel(admin, uow, clock=clock)["screened"] == children
        figures = {
            "count": timed(count, repeat),
            "log": timed(lambda: screening_log_csv(admin, uow, clock=clock), repeat),
            "log_site": timed(lambda: screening_log_csv(coordinator, uow, clock=clock), repeat),
            "funnel": timed(lambda: funnel(admin, uow, clock=clock), repeat),
            "funnel_day": timed(lambda: funnel(admin, uow, clock=clock, first_from=DAY, first_to=DAY), repeat),
        }
        for key in ("log", "log_site", "funnel"):
            figures[f"{key}_x"] = figures[key] / figures["count"]
        print("  " + ", ".join(f"{f.label} {f.show(figures[f.key])}" for f in FIGURES), flush=True)
        return figures
    finally:
        engine.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number} of {args.runs}", flush=True)
        runs.append(measure(args.children, args.repeat))
    print(f"\nsummary over {len(runs)} run(s): median, min-max, spread = (max - min) / median; "
          f"targets judged on the median")
    print(summary(FIGURES, runs))


if __name__ == "__main__":
    main()
