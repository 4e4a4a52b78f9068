"""The message store for operators: reprocessing stored messages after a mapping fix.

A message is read again from its stored body by today's ingest code; when the facts it gives differ
from the stored ones, they are added as a newer revision of that message, filed under the same
children, and those children are re-screened (an alert follows only if a status really changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.errors import InvalidHl7, InvalidInput
from ingest.submissions import document_items, hl7_items
from service.commands import ReprocessMessages
from service.ports import Clock, Dispatcher
from store import audit, messages
from store.intake import mark_pending, refile
from store.uow import UnitOfWork


@dataclass
class Reprocessed:
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    unreadable: dict[int, str] = field(default_factory=dict)
    """Messages today's code cannot read (their facts stay as they were): why, without any value."""
    missing: list[int] = field(default_factory=list)
    left_out: int = 0
    queued: int = 0


def _items(message, *, protocol, authorities: dict[str, str], max_results: int):
    received_on = message.received_at.date()
    if message.channel in ("hl7v2", "mllp"):
        items, _ = hl7_items(message.body, authorities=authorities, max_results=max_results)
        return items
    return document_items(message.body.encode("utf-8"), received_on, protocol).items


def reprocess(cmd: ReprocessMessages, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher, protocol,
              authorities: dict[str, str], max_results: int) -> Reprocessed:
    """Idempotent: a message whose facts are what today's code gives is left as it is."""
    report = Reprocessed()
    for pk in cmd.message_pks:
        with uow:
            message = messages.message(uow.session, pk)
            if message is None:
                report.missing.append(pk)
                continue
            try:
                items = _items(message, protocol=protocol, authorities=authorities, max_results=max_results)
            except (InvalidInput, InvalidHl7) as exc:
                report.unreadable[pk] = str(exc)
                continue
            changed, touched, left_out = refile(uow.session, pk, items, message.sender)
            report.left_out += left_out
            if not changed:
                report.unchanged.append(pk)
                continue
            now = clock.now()
            audit.record(uow.session, cmd.actor, "reprocess", f"Message/{pk}", now)
            due = mark_pending(uow.session, touched, now) if touched else []
            uow.on_commit(lambda due=due: dispatch.evaluate(due))
            uow.commit()
            report.changed.append(pk)
            report.queued += len(touched)
    return report
