"""The pipeline benchmark's baseline: a minimal Celery task that reads one row, updates it and
inserts one row, on the same PostgreSQL and Redis (run by bench/pipeline.py in its own worker)."""

from __future__ import annotations

import os

from celery import Celery
from sqlalchemy import create_engine, text

app = Celery("baseline", broker=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True,
                task_acks_late=True, worker_prefetch_multiplier=4, task_default_queue="baseline")
_engine = None


def engine():
    global _engine
    if _engine is None:
        _engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    return _engine


@app.task(name="baseline.touch")
def touch(row: int) -> None:
    with engine().begin() as conn:
        conn.execute(text("SELECT n FROM bench_counter WHERE id = :id FOR UPDATE"), {"id": row})
        conn.execute(text("UPDATE bench_counter SET n = n + 1 WHERE id = :id"), {"id": row})
        conn.execute(text("INSERT INTO bench_log (counter) VALUES (:id)"), {"id": row})
