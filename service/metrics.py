"""What an operator scrapes (contract §12), counted where the use cases happen.

In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, as ``myocit run`` does) every API, worker and
listener process writes its counts to that folder and ``GET /metrics`` adds them up, so the figures
are right across processes. Labels name channels, outcomes and statuses only, never a patient.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

from domain.verdicts import Status
from store.deliveries import CHANNELS as DELIVERY_CHANNELS

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

MESSAGE_CHANNELS = ("fhir", "hl7v2", "mllp", "ui")
"""Where ``service.intake.record_message`` is called from: the FHIR API, HL7 v2 over HTTP and MLLP,
the pages."""
MESSAGE_OUTCOMES = ("stored", "duplicate", "refused")
DELIVERY_OUTCOMES = ("sent", "failed")


def export_known_labels() -> None:
    """Every known label set at 0, so a labelled counter is scraped before its first event (Prometheus
    advises it: a series that appears late breaks ``rate()`` and alerting on absence)."""
    for channel in MESSAGE_CHANNELS:
        for outcome in MESSAGE_OUTCOMES:
            MESSAGES.labels(channel, outcome)
    for channel in DELIVERY_CHANNELS:
        for outcome in DELIVERY_OUTCOMES:
            DELIVERIES.labels(channel, outcome)
    for before in Status:
        for after in Status:
            if before != after:
                STATUS_CHANGES.labels(before.value, after.value)


export_known_labels()


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


def figures(folder: str | os.PathLike | None) -> list[tuple[str, str]] | None:
    """What ``/metrics`` says, added up over every process that wrote to ``folder`` (a run's
    multiprocess folder), as (figure, value) lines for a reader; None when no process wrote there.

    The counters since the run started; the evaluation time as a count, a mean and the bucket the
    95th percentile falls in (a histogram keeps no more).
    """
    if folder is None or not os.path.isdir(folder) or not any(n.endswith(".db") for n in os.listdir(folder)):
        return None
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(folder))
    samples = [s for family in registry.collect() for s in family.samples]
    lines: list[tuple[str, str]] = []

    def total(name: str) -> float:
        return sum(s.value for s in samples if s.name == name)

    def by(name: str, *labels: str) -> None:
        # Label values, not the dicts holding them: dicts do not order.
        for s in sorted((s for s in samples if s.name == name and s.value),
                        key=lambda s: tuple(s.labels.get(label, "") for label in labels)):
            lines.append((f"{name.removeprefix('myocit_').removesuffix('_total').replace('_', ' ')} "
                          + " ".join(s.labels.get(label, "") for label in labels), f"{s.value:g}"))

    by("myocit_messages_total", "channel", "outcome")
    lines.append(("facts stored", f"{total('myocit_facts_stored_total'):g}"))
    lines.append(("evaluations", f"{total('myocit_evaluations_total'):g}"))
    count = total("myocit_evaluation_seconds_count")
    if count:
        lines.append(("evaluation mean ms", f"{total('myocit_evaluation_seconds_sum') / count * 1000:.1f}"))
        buckets: dict[float, float] = {}
        for s in samples:
            if s.name == "myocit_evaluation_seconds_bucket":
                edge = float(s.labels["le"])
                buckets[edge] = buckets.get(edge, 0) + s.value
        p95 = next((edge for edge, n in sorted(buckets.items()) if n >= 0.95 * count), None)
        lines.append(("evaluation p95 ms at most", "-" if p95 in (None, float("inf")) else f"{p95 * 1000:g}"))
    for s in sorted((s for s in samples if s.name == "myocit_status_changes_total" and s.value),
                    key=lambda s: (s.labels["from"], s.labels["to"])):
        lines.append((f"status changes {s.labels['from']} to {s.labels['to']}", f"{s.value:g}"))
    lines.append(("alerts", f"{total('myocit_alerts_total'):g}"))
    by("myocit_deliveries_total", "channel", "outcome")
    return lines
