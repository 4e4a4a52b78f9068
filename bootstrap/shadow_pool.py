"""Running a shadow run's batches (contract §10) on several cores: worker processes forked from this
one, each with its own database connection (the runtime is rebuilt after a fork), each screening whole
batches and sending back only the children that move."""

from __future__ import annotations

import multiprocessing
from datetime import date

from domain import Protocol
from service import amendments

_JOB: dict = {}


def _screen(pks: list[int]) -> tuple[int, amendments.ShadowBatch]:
    from bootstrap import runtime

    rt = runtime()
    return len(pks), amendments.shadow_batch(pks, rt.uow(), active=_JOB["active"], candidate=_JOB["candidate"],
                                             as_of=_JOB["as_of"])


def pool_mapper(jobs: int, active: Protocol, candidate: Protocol, as_of: date):
    """A ``mapper`` for ``service.amendments.shadow`` over ``jobs`` processes (None: in this process)."""
    if jobs <= 1:
        return None

    def mapper(batches):
        _JOB.update(active=active, candidate=candidate, as_of=as_of)
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap_unordered(_screen, batches)

    return mapper
