"""What an operator scrapes (contract §12), counted where the use cases happen.

In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, as ``myocit run`` does) every API, worker and
listener process writes its counts to that folder and ``GET /metrics`` adds them up, so the figures
are right across processes. Labels name channels, outcomes and statuses only, never a patient.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

MESSAGES = Counter("myocit_messages_total", "Inbound messages, by channel and outcome", ["channel", "outcome"])
FACTS = Counter("myocit_facts_stored_total", "Facts stored from inbound messages")
EVALUATIONS = Counter("myocit_evaluations_total", "Screenings stored")
EVALUATION_SECONDS = Histogram("myocit_evaluation_seconds", "Time to evaluate and store one screening",
                               buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
STATUS_CHANGES = Counter("myocit_status_changes_total", "Changes of a child's overall status", ["from", "to"])
ALERTS = Counter("myocit_alerts_total", "Alerts raised")
DELIVERIES = Counter("myocit_deliveries_total", "Delivery attempts, by channel and outcome", ["channel", "outcome"])
# Read from the database at each scrape: the same for every process, so the most recent value stands.
PENDING = Gauge("myocit_pending_evaluations", "Children with data not evaluated yet", multiprocess_mode="mostrecent")
OLDEST_PENDING = Gauge("myocit_oldest_pending_seconds", "Age of the oldest pending evaluation",
                       multiprocess_mode="mostrecent")
RESCREENS_DUE = Gauge("myocit_rescreens_due", "Children whose re-screening date has come",
                      multiprocess_mode="mostrecent")


def observe_state(overview) -> None:
    """Set the gauges from ``store.overview.Overview``."""
    PENDING.set(overview.pending)
    OLDEST_PENDING.set(overview.oldest_pending_seconds or 0)
    RESCREENS_DUE.set(overview.due_for_review)


def exposition() -> bytes:
    """The Prometheus text format: across every process when in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
