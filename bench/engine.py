"""Screening engine throughput: parse and evaluate timed separately, on one core.

    python bench/engine.py [--seconds 2]

Figures: evaluations per second for a typical screened child (tests/fixtures/typical-child.json,
about 40 facts) and for the largest Synthea bundle of the corpus (tests/fixtures/corpus); parse (JSON + FHIR validation
+ mapping to facts) and record building timed on their own. The baseline, measured in the same run,
is the evaluation loop with every rule replaced by one returning a constant: the cost of the engine's
bookkeeping, so the ratio shows what the 34 rules themselves cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from config.protocol_files import load_protocol  # noqa: E402
from domain import PatientRecord, evaluate  # noqa: E402
from domain import criteria as criteria_module  # noqa: E402
from domain import evaluation as evaluation_module  # noqa: E402
from domain.criteria.base import Criterion, passes  # noqa: E402
from ingest.fhir import parse_json, read_bundle, screening_input  # noqa: E402

TYPICAL = ROOT / "tests" / "fixtures" / "typical-child.json"
SYNTHEA = ROOT / "tests" / "fixtures" / "corpus" / "synthea"
AS_OF = date(2026, 12, 1)


def rate(action, seconds: float) -> tuple[float, int]:
    """Calls per second of ``action`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(50):
        action()
    n, batch = 0, 100
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


def measure(label: str, raw: bytes, protocol, seconds: float) -> None:
    patient, profile, facts = parse(raw)
    record = PatientRecord.build(patient, profile, facts, protocol)
    parse_rate, _ = rate(lambda: parse(raw), seconds / 2)
    build_rate, _ = rate(lambda: PatientRecord.build(patient, profile, facts, protocol), seconds / 2)
    eval_rate, n = rate(lambda: evaluate(record, protocol, AS_OF), seconds)
    result = evaluate(record, protocol, AS_OF)
    print(f"{label}: {len(facts)} facts, {len(raw) / 1024:.0f} KiB, status {result.status.value}")
    print(f"  parse (JSON + FHIR validation + mapping) {parse_rate:10,.0f} /s  ({1e3 / parse_rate:.2f} ms each)")
    print(f"  record build (resolve + index)           {build_rate:10,.0f} /s  ({1e6 / build_rate:.0f} us each)")
    print(f"  evaluate (34 criteria, parse excluded)   {eval_rate:10,.0f} /s  ({1e6 / eval_rate:.1f} us each, n={n})")
    return eval_rate, record


def baseline(record, protocol, seconds: float) -> float:
    constant = passes("constant")
    stub = tuple(Criterion(c.id, c.kind, lambda ctx: constant, c.attested) for c in criteria_module.CRITERIA)
    real = evaluation_module.CRITERIA
    evaluation_module.CRITERIA = stub
    try:
        return rate(lambda: evaluate(record, protocol, AS_OF), seconds)[0]
    finally:
        evaluation_module.CRITERIA = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    protocol = load_protocol()
    print(f"machine: {describe()}")
    print(f"protocol {protocol.version}, as_of {AS_OF.isoformat()}, one process (one core)\n")
    typical_rate, record = measure("typical child", TYPICAL.read_bytes(), protocol, args.seconds)
    base = baseline(record, protocol, args.seconds)
    print(f"  baseline: constant rules                 {base:10,.0f} /s  -> the rules cost "
          f"{base / typical_rate:.1f}x the engine's bookkeeping")
    target = 20_000
    print(f"  target >= {target:,}/s: {'met' if typical_rate >= target else 'NOT met'} "
          f"({typical_rate / target:.2f}x the target)\n")
    largest = max(SYNTHEA.glob("*.json"), key=lambda p: p.stat().st_size)
    measure(f"largest Synthea bundle ({largest.name[:24]}...)", largest.read_bytes(), protocol, args.seconds)


if __name__ == "__main__":
    main()
