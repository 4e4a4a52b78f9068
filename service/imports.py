"""The initial load of a site's children (contract §7): every resource goes through the same
validation, identity and authority checks and store as ``POST /fhir``; each child is screened once,
when the whole load is stored.

Each resource (each NDJSON line, each Bundle file) is its own message, so a load run twice stores
nothing new (every message is a duplicate) and raises no alert. Lines are stored in transactions of
``BATCH``, each line under a savepoint, so a bad line is stored nowhere and the others are kept. The
children touched are marked for evaluation only at the end, in one pass: a sweeper passing during a
long load finds nothing to evaluate early, so no child is screened on half its history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.identity import Refused
from ingest import bulk
from ingest.errors import InvalidInput
from ingest.fhir import parse_json
from ingest.submissions import bundle_items, resource_items
from service.commands import ImportResources
from service.ports import Clock, Dispatcher
from store import audit, views
from store.intake import mark_pending, store_message
from store.tokens import Caller
from store.uow import UnitOfWork

BATCH = 200
FHIR_JSON = "application/fhir+json"


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


def _items(unit: bulk.Unit, today, protocol):
    data = parse_json(unit.raw)
    if unit.bundle and data.get("resourceType") == "Bundle":
        parsed = bundle_items(unit.raw, today, protocol)
        problems = [e.problem for e in parsed.entries if e.problem]
        if problems:
            raise InvalidInput(problems[0])
        return parsed.items, parsed.atomic
    kind = data.get("resourceType")
    if not isinstance(kind, str):
        raise InvalidInput("resourceType is missing", code="required")
    items, _ = resource_items(unit.raw, kind, today, protocol)
    return items, True


def import_resources(cmd: ImportResources, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher, protocol,
                     on_progress: Callable[[ImportReport, str], None] = lambda report, name: None,
                     on_problem: Callable[[str], None] = lambda line: None) -> ImportReport:
    """Load every file; then mark and send each child touched once. Raises ``bulk.Unreadable`` when a
    path names nothing."""
    sender = importer(cmd.site)
    paths = bulk.files(list(cmd.paths))
    report = ImportReport(files=len(paths))
    touched: set[int] = set()
    pending: list[bulk.Unit] = []

    def flush() -> None:
        with uow:
            session = uow.session
            now = clock.now()
            for unit in pending:
                where = f"{unit.path}:{unit.line}"
                try:
                    items, atomic = _items(unit, clock.today(), protocol)
                    body = unit.raw.decode("utf-8-sig")
                    with session.begin_nested():
                        stored = store_message(session, channel="import", content_type=FHIR_JSON, body=body,
                                               sender=sender, items=items, now=now, atomic=atomic,
                                               defer_marking=True)
                except (InvalidInput, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    problem = f"{where}: {exc if isinstance(exc, InvalidInput) else 'not UTF-8 JSON'}"
                except Refused as exc:
                    problem = f"{where}: {exc.refusal.explanation}"
                else:
                    problem = None
                    if stored.duplicate_of is not None:
                        report.duplicates += 1
                        touched.update(views.never_screened_patients_of(session, stored.duplicate_of))
                    else:
                        report.stored += 1
                        touched.update(stored.enqueue)
                if problem is not None:
                    report.rejected += 1
                    report.problems.append(problem)
                    on_problem(problem)
            audit.record(session, sender.name, "import", f"{report.read} resources", now)
            uow.commit()
        pending.clear()

    for path in paths:
        for unit in bulk.units(path):
            pending.append(unit)
            if len(pending) >= BATCH:
                flush()
                on_progress(report, path.name)
        if pending:
            flush()
        on_progress(report, path.name)
    report.queued = _mark_and_send(sorted(touched), uow, clock=clock, dispatch=dispatch)
    return report


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
