"""The initial load of a site's children (contract §7): every resource goes through the same
validation, identity and authority checks and store as ``POST /fhir``; each child is screened once,
when the whole load is stored.

Each Bundle file, and each run of ``BATCH`` lines of an NDJSON file, is one message, so a load run
twice stores nothing new (every message is a duplicate) and raises no alert. A run of lines is stored
as a batch: a line that does not read, or that its sender may not write, is stored nowhere and
reported with its line number, and the other lines are kept. The
children touched are marked for evaluation only at the end, in one pass: a sweeper passing during a
long load finds nothing to evaluate early, so no child is screened on half its history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from domain.identity import Caller, Refused
from ingest import bulk
from ingest.errors import InvalidInput
from ingest.media_types import FHIR_JSON, FHIR_NDJSON
from ingest.submissions import document_items
from service.commands import ImportResources
from service.ports import Clock, Dispatcher
from store import audit, views
from store.intake import mark_pending, store_message
from store.uow import UnitOfWork

BATCH = 200


@dataclass
class ImportReport:
    files: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    queued: int = 0
    problems: list[str] = field(default_factory=list)
    """``FILE:LINE: what is wrong``, one per rejected line (also sent to ``on_problem`` as they occur)."""

    @property
    def read(self) -> int:
        return self.stored + self.duplicates + self.rejected


def importer(site: str | None) -> Caller:
    """Who the load acts as: a lab of ``site``, or, with no site, every site (Patients must then name
    theirs)."""
    if site:
        return Caller(f"import:{site}", "lab", frozenset({site}))
    return Caller("import", "admin")


def _items(unit: bulk.Unit, today, protocol) -> tuple[list, bool, str]:
    """(items, all or nothing, body) of one unit, read once; InvalidInput says what is wrong."""
    parsed = document_items(unit.raw, today, protocol, bundles=unit.bundle)
    problems = [e.problem for e in parsed.entries if e.problem]
    if problems:
        raise InvalidInput(problems[0])
    # The bytes parsed as UTF-8 JSON above: decoding them cannot fail.
    return parsed.items, parsed.atomic, unit.raw.decode("utf-8-sig")


def import_resources(cmd: ImportResources, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher, protocol,
                     on_progress: Callable[[ImportReport, str], None] = lambda report, name: None,
                     on_problem: Callable[[str], None] = lambda line: None) -> ImportReport:
    """Load every file; then mark and send each child touched once. Raises ``bulk.Unreadable`` when a
    path names nothing."""
    paths = bulk.files(list(cmd.paths))
    load = _Load(importer(cmd.site), ImportReport(files=len(paths)), clock=clock, protocol=protocol,
                 on_problem=on_problem)
    for path in paths:
        for unit in bulk.units(path):
            load.pending.append(unit)
            if len(load.pending) >= BATCH:
                load.flush(uow)
                on_progress(load.report, path.name)
        if load.pending:
            load.flush(uow)
        on_progress(load.report, path.name)
    load.report.queued = _mark_and_send(sorted(load.touched), uow, clock=clock, dispatch=dispatch)
    return load.report


class _Load:
    """One initial load under way: the units read but not stored yet, the report so far and the
    children touched (marked for evaluation only once everything is stored)."""

    def __init__(self, sender: Caller, report: ImportReport, *, clock: Clock, protocol,
                 on_problem: Callable[[str], None]) -> None:
        self.sender = sender
        self.report = report
        self.clock = clock
        self.protocol = protocol
        self.on_problem = on_problem
        self.pending: list[bulk.Unit] = []
        self.touched: set[int] = set()

    def flush(self, uow: UnitOfWork) -> None:
        """Store the pending units in one transaction: the NDJSON lines first, as one message, then
        each Bundle file as its own."""
        with uow:
            session = uow.session
            now = self.clock.now()
            lines = [unit for unit in self.pending if not unit.bundle]
            if lines:
                self._store_lines(session, lines, now)
            for unit in self.pending:
                if unit.bundle:
                    self._store_file(session, unit, now)
            audit.record(session, self.sender, "import", f"{self.report.read} resources", now)
            uow.commit()
        self.pending.clear()

    def _store_file(self, session, unit: bulk.Unit, now) -> None:
        where = f"{unit.path}:{unit.line}"
        try:
            items, atomic, body = _items(unit, self.clock.today(), self.protocol)
            with session.begin_nested():
                stored = self._store(session, body, items, FHIR_JSON, now, atomic=atomic)
        except InvalidInput as exc:
            return self._problem(where, str(exc))
        except Refused as exc:
            return self._problem(where, exc.refusal.explanation)
        self._counted(session, stored, 1)

    def _store_lines(self, session, units: list[bulk.Unit], now) -> None:
        """Lines of one NDJSON file, stored as one message (a batch: each line judged on its own), so
        that a load costs a few statements per hundred resources; the same file loaded again gives the
        same messages, all duplicates."""
        read = self._read_lines(units)
        refused_lines: dict = {}
        while read:
            items = [item for _, found, _ in read for item in found]
            owners = [unit for unit, found, _ in read for _ in found]
            savepoint = session.begin_nested()
            stored = self._store(session, "\n".join(body for _, _, body in read) + "\n", items, FHIR_NDJSON, now,
                                 atomic=False)
            if not stored.refused:
                savepoint.commit()
                break
            # A refused line is stored nowhere, not even in the message's body: store the rest again.
            savepoint.rollback()
            for index, refusal in stored.refused.items():
                refused_lines.setdefault(owners[index], refusal)
            read = [entry for entry in read if entry[0] not in refused_lines]
        for unit, refusal in sorted(refused_lines.items(), key=lambda kv: kv[0].line):
            self._problem(f"{unit.path}:{unit.line}", refusal.explanation)
        if read:
            self._counted(session, stored, len(read))

    def _read_lines(self, units: list[bulk.Unit]) -> list[tuple[bulk.Unit, list, str]]:
        """(line, its items, its text) of each line that reads; the others reported."""
        read = []
        for unit in units:
            try:
                found, _, body = _items(unit, self.clock.today(), self.protocol)
            except InvalidInput as exc:
                self._problem(f"{unit.path}:{unit.line}", str(exc))
                continue
            read.append((unit, found, body))
        return read

    def _store(self, session, body: str, items, content_type: str, now, *, atomic: bool):
        return store_message(session, channel="import", content_type=content_type, body=body, sender=self.sender,
                             items=items, now=now, atomic=atomic, defer_marking=True)

    def _problem(self, where: str, text: str) -> None:
        self.report.rejected += 1
        self.report.problems.append(f"{where}: {text}")
        self.on_problem(f"{where}: {text}")

    def _counted(self, session, stored, resources: int) -> None:
        if stored.duplicate_of is not None:
            self.report.duplicates += resources
            self.touched.update(views.never_screened_patients_of(session, stored.duplicate_of))
        else:
            self.report.stored += resources
            self.touched.update(stored.enqueue)


def _mark_and_send(pks: list[int], uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher) -> int:
    """One evaluation per child, once the load is stored."""
    queued = 0
    for start in range(0, len(pks), 1000):
        batch = pks[start:start + 1000]
        with uow:
            due = mark_pending(uow.session, batch, clock.now())
            uow.on_commit(lambda due=due: dispatch.evaluate(due))
            uow.commit()
        queued += len(batch)
    return queued
