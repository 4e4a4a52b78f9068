"""Answers built from many rows at once (the screening log: one row per child).

Building one allocates tens of thousands of small containers (the database's rows, the entries, the
CSV's cells). Each burst of allocations makes Python's cyclic garbage collector walk every object the
process holds, several times per answer, though such rows hold no reference cycle to find: at 20,000
children that walking was a third of the log's time. ``cycle_collection_paused`` pauses the collector
while an answer is built; reference counting still frees everything as usual, and the collector resumes
when the last answer under way is done (nested and concurrent uses are counted)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_under_way = 0
_resume = False


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    global _under_way, _resume
    with _lock:
        if _under_way == 0:
            _resume = gc.isenabled()
            gc.disable()
        _under_way += 1
    try:
        yield
    finally:
        with _lock:
            _under_way -= 1
            if _under_way == 0 and _resume:
                gc.enable()
