"""Screening engine throughput: parse and evaluate timed separately, on one core.

    python bench/engine.py [--runs 3] [--seconds 2]

Figures: evaluations per second for a typical screened child (tests/fixtures/typical-child.json,
48 facts) and for the largest Synthea bundle of the corpus (tests/fixtures/corpus); parse (JSON
+ FHIR validation + mapping to facts) and record building timed on their own. The baseline, measured
in the same run right after, is the evaluation loop with every rule replaced by one returning a
constant: the cost of the engine's bookkeeping alone. Their ratio, evaluations / baseline, is the share
of an evaluation's time that is bookkeeping rather than the 34 rules themselves (100 %: the rules cost
nothing). Every figure is measured --runs times, then summarised: median, min-max, spread, targets
judged on the median.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_by_process, describe  # noqa: E402
from bench.summary import Figure, summary  # noqa: E402
from config.protocol_files import load_protocol  # noqa: E402
from domain import PatientRecord, evaluate  # noqa: E402
from domain import criteria as criteria_module  # noqa: E402
from domain import evaluation as evaluation_module  # noqa: E402
from domain.criteria.base import Criterion, passes  # noqa: E402
from ingest.fhir import parse_json, read_bundle, screening_input  # noqa: E402

TYPICAL = ROOT / "tests" / "fixtures" / "typical-child.json"
SYNTHEA = ROOT / "tests" / "fixtures" / "corpus" / "synthea"
AS_OF = date(2026, 12, 1)

FIGURES = [
    Figure("parse", "typical child: parse, /s"),
    Figure("build", "typical child: record build, /s"),
    Figure("evaluate", "typical child: evaluations/s", target=(">=", 20_000)),
    Figure("baseline", "typical child: constant-rule baseline, /s"),
    Figure("share", "typical child: evaluations / baseline, %", ".1f", (">=", 40)),
    Figure("largest", "largest Synthea bundle: evaluations/s"),
    Figure("foreign", "CPU taken by other programs, % of the machine"),
]


def rate(action, seconds: float, *, warm_up: int = 50, batch: int = 100) -> tuple[float, int]:
    """(calls per second, calls) of ``action`` over about ``seconds``, after ``warm_up`` calls; timed
    in batches doubling from ``batch`` (smaller for slower actions)."""
    for _ in range(warm_up):
        action()
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            action()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n
        batch = min(batch * 2, 20000)


def parse(raw: bytes):
    return screening_input(read_bundle(parse_json(raw)))


def measure(label: str, raw: bytes, protocol, seconds: float) -> tuple[dict[str, float], PatientRecord]:
    """Parse, record build and evaluation rates of one bundle (each per second, on one core), printed;
    with the record built, for the baseline."""
    patient, profile, facts = parse(raw)
    record = PatientRecord.build(patient, profile, facts, protocol)
    parse_rate, _ = rate(lambda: parse(raw), seconds / 2)
    build_rate, _ = rate(lambda: PatientRecord.build(patient, profile, facts, protocol), seconds / 2)
    eval_rate, n = rate(lambda: evaluate(record, protocol, AS_OF), seconds)
    result = evaluate(record, protocol, AS_OF)
    print(f"  {label}: {len(facts)} facts, {len(raw) / 1024:.0f} KiB, status {result.status.value}")
    print(f"    parse (JSON + FHIR validation + mapping) {parse_rate:10,.0f} /s  "
          f"({1e3 / parse_rate:.2f} ms each)")
    print(f"    record build (resolve + index)           {build_rate:10,.0f} /s  "
          f"({1e6 / build_rate:.0f} us each)")
    print(f"    evaluate (34 criteria, parse excluded)   {eval_rate:10,.0f} /s  "
          f"({1e6 / eval_rate:.1f} us each, n={n})")
    return {"parse": parse_rate, "build": build_rate, "evaluate": eval_rate}, record


def baseline(record, protocol, seconds: float) -> float:
    """Evaluations per second of ``record`` with every rule replaced by one returning a constant: the
    engine's own loop, context and result building, without the rules."""
    constant = passes("constant")
    stub = tuple(Criterion(c.id, c.kind, lambda ctx: constant, c.attested) for c in criteria_module.CRITERIA)
    real = evaluation_module.CRITERIA
    evaluation_module.CRITERIA = stub
    try:
        return rate(lambda: evaluate(record, protocol, AS_OF), seconds)[0]
    finally:
        evaluation_module.CRITERIA = real


def run(protocol, typical: bytes, largest: Path, seconds: float) -> dict[str, float]:
    """One measurement of every figure, by ``FIGURES`` key."""
    cpu_before, started = cpu_by_process(), time.perf_counter()
    figures, record = measure("typical child", typical, protocol, seconds)
    figures["baseline"] = baseline(record, protocol, seconds)
    figures["share"] = 100 * figures["evaluate"] / figures["baseline"]
    print(f"    baseline: constant rules                 {figures['baseline']:10,.0f} /s  -> evaluations / "
          f"baseline {figures['share']:.1f} % (target >= 40 %)")
    synthea, _ = measure(f"largest Synthea bundle ({largest.name[:24]}...)", largest.read_bytes(), protocol,
                         seconds)
    figures["largest"] = synthea["evaluate"]
    figures["foreign"] = _others_share(cpu_before, cpu_by_process(), time.perf_counter() - started)
    print(f"  other programs took {figures['foreign']:.0f} % of the machine's CPU meanwhile")
    return figures


def _others_share(before: dict[str, float], after: dict[str, float], took: float) -> float:
    """Percent of the machine's CPU that every process but this one (and the kernel) used in ``took``
    seconds: on a shared machine, the one-core figures hold while it stays under one core's share."""
    spent = sum(max(0.0, after[k] - before.get(k, 0.0)) for k in after
                if k not in ("bench client", "other: kernel"))
    return 100 * spent / (took * (os.cpu_count() or 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of every measurement")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    protocol = load_protocol()
    print(f"machine: {describe()}")
    print(f"protocol {protocol.version}, as_of {AS_OF.isoformat()}, one process (one core), "
          f"{args.runs} run(s)")
    typical = TYPICAL.read_bytes()
    largest = max(SYNTHEA.glob("*.json"), key=lambda p: p.stat().st_size)
    runs = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number} of {args.runs}", flush=True)
        runs.append(run(protocol, typical, largest, args.seconds))
    print(f"\nsummary over {len(runs)} run(s): median, min-max, spread = (max - min) / median; "
          f"targets judged on the median")
    print(summary(FIGURES, runs))


if __name__ == "__main__":
    main()
