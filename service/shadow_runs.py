"""A shadow run (contract §10) spread over the Celery workers: the command splits the registered
children into chunks (keyset ranges of pks), stores them and sends one task per chunk; any worker, on
any machine, takes a chunk, reads its children's facts in a few set-based statements
(``store.protocols.facts_of``), screens them under both versions and stores what it found; the command
gathers the chunks as they finish, with progress, into the one report ``service.amendments.shadow``
writes and audits.

A chunk whose worker is lost (killed, its machine gone) is sent again once it was taken longer than
``lease_seconds`` ago without a result, and every chunk waiting is sent again when no worker has taken
or finished any for that long (none running, or the broker lost the tasks): screening reads only, and a chunk's result is
stored once (the first one; any other is the same), so taking a chunk twice changes nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Iterable, Iterator

from config.protocol_files import load_protocol_files
from domain import Protocol
from service.amendments import ShadowBatch, shadow_batch
from service.commands import ScreenShadowChunk, ShadowAmendment
from service.errors import Conflict
from service.ports import Clock
from store import shadow_runs
from store.uow import UnitOfWork

log = logging.getLogger("myocit.amendments")
_VERSIONS: dict[int, tuple[Protocol, Protocol]] = {}
ATTEMPTS = 5
"""Takes of one chunk before the run stops: a chunk failing this often fails for a reason of its own
(a child's screening failing is reported in the chunk, never raised), which sending it again will not mend."""


class ChunkedShadow:
    """A ``mapper`` for ``service.amendments.shadow`` that runs the batches as worker tasks."""

    def __init__(self, cmd: ShadowAmendment, uow: UnitOfWork, *, active: tuple[str, dict],
                 candidate: tuple[str, dict], dispatch, clock: Clock, lease_seconds: float = 60.0,
                 poll_seconds: float = 0.1, wait: Callable[[float], None] = time.sleep) -> None:
        self.cmd, self.uow = cmd, uow
        self.active, self.candidate = active, candidate
        self.dispatch, self.clock = dispatch, clock
        self.lease_seconds, self.poll_seconds, self.wait = lease_seconds, poll_seconds, wait
        self.run_pk: int | None = None

    def __call__(self, batches: Iterable[list[int]]) -> Iterator[tuple[int, ShadowBatch]]:
        with self.uow as uow:
            self.run_pk = shadow_runs.create_run(uow.session, actor=self.cmd.actor, site=self.cmd.site,
                                                 as_of=self.cmd.as_of, active=self.active,
                                                 candidate=self.candidate, now=self.clock.now())
            uow.commit()
        try:
            count = self._send(batches)
            yield from self._gather(count)
        finally:
            with self.uow as uow:
                shadow_runs.close_run(uow.session, self.run_pk, self.clock.now())
                uow.commit()

    def _send(self, batches: Iterable[list[int]]) -> int:
        count = 0
        for pks in batches:
            with self.uow as uow:
                chunk = shadow_runs.add_chunk(uow.session, self.run_pk, pks[0], pks[-1], self.clock.now())
                uow.commit()
            self.dispatch.shadow_chunks([chunk])
            count += 1
        return count

    def _gather(self, count: int) -> Iterator[tuple[int, ShadowBatch]]:
        seen: set[int] = set()
        while len(seen) < count:
            with self.uow as uow:
                now = self.clock.now()
                done = [(row.pk, row.screened, ShadowBatch(row.result["changes"], row.result["failed"]))
                        for row in shadow_runs.done_since(uow.session, self.run_pk, seen)]
                if shadow_runs.worn_out(uow.session, self.run_pk, ATTEMPTS):
                    raise Conflict(f"a chunk of the shadow run was taken {ATTEMPTS} times and never finished; "
                                   "see the workers' logs")
                lost = shadow_runs.lost(uow.session, self.run_pk, _seconds_before(now, self.lease_seconds))
                if lost:
                    shadow_runs.sent_again(uow.session, lost, now)
                uow.commit()
            if lost:
                log.warning("shadow run: %d chunk(s) not finished within %s s sent again (a worker lost, or none "
                            "running)", len(lost), self.lease_seconds)
                self.dispatch.shadow_chunks(lost)
            for pk, screened, found in done:
                seen.add(pk)
                yield screened, found
            if not done and len(seen) < count:
                self.wait(self.poll_seconds)


def _seconds_before(now, seconds: float):
    from datetime import timedelta

    return now - timedelta(seconds=seconds)


def screen_chunk(cmd: ScreenShadowChunk, uow: UnitOfWork, *, clock: Clock) -> int | None:
    """Screen one chunk of a shadow run and store what it found; None if it was done already (or its
    run was gathered). Reads only, stores no screening, raises no alert."""
    with uow:
        taken = shadow_runs.take(uow.session, cmd.chunk_pk, clock.now())
        if taken is None:
            uow.commit()
            return None
        chunk, run = taken
        pks = shadow_runs.children(uow.session, run, chunk)
        active, candidate = _versions(run)
        as_of = run.as_of
        uow.commit()
    found = shadow_batch(pks, uow, active=active, candidate=candidate, as_of=as_of)
    with uow:
        stored = shadow_runs.finish(uow.session, cmd.chunk_pk, len(pks), found._asdict(), clock.now())
        uow.commit()
    if not stored:
        log.info("shadow chunk %s was finished by another worker first", cmd.chunk_pk)
    return len(pks)


def _versions(run) -> tuple[Protocol, Protocol]:
    """Both versions of a run, loaded once per process (protocols are immutable, runs few)."""
    if run.pk not in _VERSIONS:
        if len(_VERSIONS) >= 4:
            _VERSIONS.clear()
        _VERSIONS[run.pk] = (load_protocol_files(run.active_name, run.active_files),
                             load_protocol_files(run.candidate_name, run.candidate_files))
    return _VERSIONS[run.pk]
