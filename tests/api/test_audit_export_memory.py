"""The audit export is streamed (contract §17): exporting ten times as many rows takes about the same
memory, since rows come from a server-side cursor in batches and leave as CSV chunks."""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timezone

from domain.identity import Caller
from service import data_protection
from service.commands import ExportAudit
from store.models import AuditEntry
from web.data_protection import csv_lines

AT = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _add(rt, count: int) -> None:
    rows = [{"at": AT, "actor": f"token {i % 50} (lab-system)", "action": "view", "target": None, "role": "lab",
             "screening_id": f"s-{i:012x}", "outcome": None} for i in range(count)]
    with rt.engine.begin() as conn:
        conn.execute(AuditEntry.__table__.insert(), rows)


def _peak(rt) -> tuple[int, int]:
    command = ExportAudit(Caller("dpo", "admin"))
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in csv_lines(data_protection.export_audit(command, rt.uow(), clock=rt.clock)))
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_ten_times_the_rows_take_about_the_same_memory(rt):
    _add(rt, 1_500)
    small, small_size = _peak(rt)
    _add(rt, 13_500)
    large, large_size = _peak(rt)
    assert large_size > 8 * small_size
    assert large < 2 * small + 1_000_000, (small, large)
