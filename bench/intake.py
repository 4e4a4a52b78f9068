"""FHIR intake rate: validation + mapping to facts, the fast path (ingest/fhir_fast.py, msgspec) against
fhir.resources alone, in the same run, on one core.

    python bench/intake.py [--seconds 2]

Inputs: one lab Observation (testkit/fhir_samples.py ``quantity``), a batch Bundle of 20 such
Observations (``bundle``), and tests/fixtures/typical-child.json (a complete record, 50 entries).
Each is already-parsed JSON (``parse_json`` is the same on both paths and is left out); what is timed
is ``read_resource`` + ``extract`` or ``read_bundle`` + ``extract_bundle``, with the protocol in force,
then the reading alone. Before timing, each input is checked to give the same facts on both paths
without falling back.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine import rate  # noqa: E402
from bench.machine import describe  # noqa: E402
from config.protocol_files import load_protocol  # noqa: E402
from ingest import fhir, fhir_fast  # noqa: E402
from testkit.fhir_samples import bundle, quantity  # noqa: E402

TYPICAL = ROOT / "tests" / "fixtures" / "typical-child.json"


def both(action, seconds: float) -> tuple[float, float]:
    """(fast path rate, fhir.resources rate) of ``action``."""
    fhir_fast.ENABLED = True
    fast = rate(action, seconds, warm_up=20, batch=10)[0]
    fhir_fast.ENABLED = False
    try:
        slow = rate(action, seconds, warm_up=20, batch=10)[0]
    finally:
        fhir_fast.ENABLED = True
    return fast, slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per figure (default 2)")
    args = parser.parse_args()
    protocol = load_protocol()
    observation = quantity("p-001", "26499-4", 1.8, "G/L", "2026-11-20T08:10:00+01:00", oid="obs-anc")
    batch = bundle([quantity("p-001", "26499-4", 1.0 + i / 10, "G/L", "2026-11-20T08:10:00+01:00",
                             oid=f"obs-{i}") for i in range(20)], "batch")
    typical = json.loads(TYPICAL.read_text())
    cases = [
        ("1 Observation", 1, lambda: fhir.extract(fhir.read_resource(observation), protocol=protocol)),
        ("batch Bundle, 20 Observations", 20,
         lambda: fhir.extract_bundle(fhir.read_bundle(batch), protocol=protocol)),
        (f"typical-child.json, {len(typical['entry'])} entries", len(typical["entry"]),
         lambda: fhir.extract_bundle(fhir.read_bundle(typical), protocol=protocol)),
    ]
    for _, _, action in cases:
        fhir_fast.ENABLED = False
        slow_result = action()
        fhir_fast.ENABLED = True
        fhir_fast.reset_counts()
        assert action() == slow_result, "the two paths disagree"
        assert not fhir_fast.fallbacks, f"fell back: {dict(fhir_fast.fallbacks)}"
    validation = [
        ("1 Observation", 1, lambda: fhir.read_resource(observation)),
        ("batch Bundle, 20 Observations", 20, lambda: fhir.read_bundle(batch)),
        (f"typical-child.json, {len(typical['entry'])} entries", len(typical["entry"]),
         lambda: fhir.read_bundle(typical)),
    ]
    print(describe())
    for title, table in (("validation + mapping", cases), ("validation alone", validation)):
        print(f"{title:34} {'fast path':>22} {'fhir.resources':>22} {'ratio':>7}")
        for label, resources, action in table:
            fast, slow = both(action, args.seconds)
            print(f"{label:34} {fast:9,.0f} /s {1e6 / fast:7.1f} us {slow:9,.0f} /s {1e6 / slow:7.1f} us "
                  f"{fast / slow:6.1f}x")
            if resources > 1:
                print(f"{'  per resource':34} {fast * resources:9,.0f} /s {1e6 / fast / resources:7.1f} us "
                      f"{slow * resources:9,.0f} /s {1e6 / slow / resources:7.1f} us")


if __name__ == "__main__":
    main()
