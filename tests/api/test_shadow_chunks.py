"""Contract §10, a shadow run on the workers (``service.shadow_runs``): the command stores and sends
one task per chunk and gathers what the workers find into the same report as a run in process; a
chunk lost with its worker is sent again and taken again; a chunk screened twice counts once; nothing
is left behind but the report."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config.protocol_files import PROTOCOLS_DIR, read_version_files
from service import amendments, shadow_runs
from service.commands import ScreenShadowChunk, ShadowAmendment
from service.errors import Conflict
from store.models import ShadowChunk, ShadowRun
from tests.api.test_protocol_amendments import CHILDREN, DAY, EXPECTED, NAME, amendment, counts, registered
from tests.inprocess import run_pending
from workers import tasks

ACTIVE = ("myocit-2026-11", read_version_files(PROTOCOLS_DIR / "myocit-2026-11"))


def _run(rt, tmp_path, monkeypatch, *, worker, chunk: int = 3, lease: float = 60.0, **cmd) -> dict:
    """A shadow run whose chunks are taken, while the command waits, by ``worker(rt)``."""
    monkeypatch.setattr(amendments, "BATCH", chunk)
    candidate = amendments.load_candidate(str(amendment(tmp_path / "drafts")), None)
    command = ShadowAmendment(NAME, DAY, **cmd)
    mapper = shadow_runs.ChunkedShadow(command, rt.uow(), active=ACTIVE, candidate=(candidate.name, candidate.files),
                                       dispatch=rt.dispatch, clock=rt.clock, lease_seconds=lease,
                                       wait=lambda _seconds: worker(rt))
    seen = []
    report = amendments.shadow(command, rt.uow(), active_version="myocit-2026-11", active=rt.protocol,
                               candidate=candidate, clock=rt.clock, mapper=mapper,
                               progress=lambda done, total: seen.append((done, total)))
    assert seen == [] or seen[-1] == (report["screened"], report["screened"])  # progress to the end
    return report


def _found(report) -> dict:
    return {c["patient"]: (c["from"], c["to"], [(x["id"], x["from"], x["to"]) for x in c["criteria"]])
            for c in report["changes"]}


def _left(rt) -> tuple[int, int]:
    with rt.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(ShadowChunk)),
                uow.session.scalar(select(func.count()).select_from(ShadowRun).where(ShadowRun.finished_at.is_(None))))


def test_the_workers_chunks_give_the_report_of_a_run_in_process(tmp_path, client, tokens, rt, monkeypatch):
    registered(client, tokens, rt)
    before = counts(rt)
    report = _run(rt, tmp_path, monkeypatch, worker=run_pending)
    sent = [name for name, *_ in rt.celery.sent]
    assert report["screened"] == len(CHILDREN) and report["failed"] == []
    assert _found(report) == EXPECTED
    assert counts(rt) == before  # no screening stored, no alert raised
    assert _left(rt) == (0, 0)  # the chunks gone once gathered; the report is kept on its own
    assert sent == []
    only_b = _run(rt, tmp_path / "b", monkeypatch, worker=run_pending, site="site-b")
    assert (only_b["screened"], only_b["changes"]) == (0, [])


def test_a_chunk_lost_with_its_worker_is_sent_again_and_counted_once(tmp_path, client, tokens, rt, monkeypatch):
    registered(client, tokens, rt)
    lost: list[int] = []

    def worker_killed_once(rt) -> None:
        """The first chunk's worker dies after taking it: marked taken, never finished, its task gone."""
        while rt.celery.sent:
            name, args, _ = rt.celery.sent.pop(0)
            assert name == "myocit.shadow_chunk"
            if not lost:
                lost.append(args[0])
                with rt.uow() as uow:
                    from store import shadow_runs as rows
                    assert rows.take(uow.session, args[0], rt.clock.now()) is not None
                    uow.commit()
                continue
            tasks.shadow_chunk.run(*args)
            tasks.shadow_chunk.run(*args)  # delivered twice: done already, skipped

    report = _run(rt, tmp_path, monkeypatch, worker=worker_killed_once, lease=0.0)
    assert lost and report["screened"] == len(CHILDREN)
    assert _found(report) == EXPECTED
    assert _left(rt) == (0, 0)


def test_a_second_result_for_a_chunk_is_dropped_and_a_gathered_runs_chunk_is_skipped(tmp_path, client, tokens, rt):
    registered(client, tokens, rt)
    candidate = amendments.load_candidate(str(amendment(tmp_path / "drafts")), None)
    from store import shadow_runs as rows

    with rt.uow() as uow:
        run = rows.create_run(uow.session, actor="test", site=None, as_of=DAY, active=ACTIVE,
                              candidate=(candidate.name, candidate.files), now=rt.clock.now())
        chunk = rows.add_chunk(uow.session, run, 1, 10_000, rt.clock.now())
        uow.commit()
    assert shadow_runs.screen_chunk(ScreenShadowChunk(chunk), rt.uow(), clock=rt.clock) == len(CHILDREN)
    with rt.uow() as uow:
        first = uow.session.get(ShadowChunk, chunk).result
        assert not rows.finish(uow.session, chunk, 0, {"changes": [], "failed": []}, rt.clock.now())
        uow.commit()
    with rt.uow() as uow:
        assert uow.session.get(ShadowChunk, chunk).result == first
        assert len(first["changes"]) == len(EXPECTED)
        rows.close_run(uow.session, run, rt.clock.now())
        uow.commit()
    assert shadow_runs.screen_chunk(ScreenShadowChunk(chunk), rt.uow(), clock=rt.clock) is None


def test_a_chunk_that_never_finishes_stops_the_run_after_a_few_takes(tmp_path, client, tokens, rt, monkeypatch):
    registered(client, tokens, rt)

    def worker_that_always_dies(rt) -> None:
        from store import shadow_runs as rows

        while rt.celery.sent:
            _, args, _ = rt.celery.sent.pop(0)
            with rt.uow() as uow:
                rows.take(uow.session, args[0], rt.clock.now())
                uow.commit()

    with pytest.raises(Conflict, match="taken 5 times"):
        _run(rt, tmp_path, monkeypatch, worker=worker_that_always_dies, lease=0.0)
    assert _left(rt) == (0, 0)  # the run closed all the same


def test_a_chunk_waiting_behind_others_is_not_lost_while_the_workers_make_progress(rt):
    from datetime import timedelta

    from store import shadow_runs as rows

    start = rt.clock.now()
    with rt.uow() as uow:
        run = rows.create_run(uow.session, actor="test", site=None, as_of=DAY, active=ACTIVE, candidate=ACTIVE,
                              now=start)
        first, second = (rows.add_chunk(uow.session, run, n, n, start) for n in (1, 2))
        uow.commit()
    later = start + timedelta(seconds=120)
    with rt.uow() as uow:
        assert rows.lost(uow.session, run, later - timedelta(seconds=60)) == [first, second]  # no worker at all
        rows.take(uow.session, first, later)  # a worker takes the first: the second waits its turn
        uow.commit()
    with rt.uow() as uow:
        assert rows.lost(uow.session, run, later - timedelta(seconds=60)) == []
        assert rows.lost(uow.session, run, later + timedelta(seconds=1)) == [first, second]  # all gone quiet
