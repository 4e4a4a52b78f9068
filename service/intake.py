"""Recording a message: every intake path (FHIR, HL7 v2, the pages' forms) ends here."""

from __future__ import annotations

import logging

from domain.identity import Refused
from service import metrics
from store import audit
from store.intake import Stored, screening_id_of, store_message
from store.uow import UnitOfWork
from service.commands import RecordMessage
from service.ports import Clock, Dispatcher


log = logging.getLogger("myocit.intake")


def record_message(cmd: RecordMessage, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher) -> Stored:
    """Check authority, store, audit, commit, then send the evaluations. Raises
    ``domain.identity.Refused`` (nothing stored) when the command is atomic and an item is refused.

    Idempotent: a body already stored is stored nothing more and names the earlier message.
    """
    with uow:
        now = clock.now()
        try:
            stored = store_message(uow.session, channel=cmd.channel, content_type=cmd.content_type, body=cmd.body,
                                   sender=cmd.sender, items=cmd.items, now=now, control_id=cmd.control_id,
                                   atomic=cmd.atomic, hl7_sender=cmd.hl7_sender, ack_code=cmd.ack_code,
                                   audit=lambda message_pk, dropped: _posted(cmd, now, message_pk, dropped))
        except Refused as exc:
            metrics.MESSAGES.labels(cmd.channel, "refused").inc()
            log.info("%s message from %s refused (%s)", cmd.channel, cmd.sender.name, exc.refusal.value)
            raise
        if stored.duplicate_of is not None:
            metrics.MESSAGES.labels(cmd.channel, "duplicate").inc()
            log.info("%s message from %s: a repeat of message %s", cmd.channel, cmd.sender.name, stored.duplicate_of)
            return stored
        if not stored.audited:
            audit.write(uow.session, _posted(cmd, now, stored.message_pk, bool(stored.dropped)))
        for action, patient_id in cmd.audited:
            audit.record(uow.session, cmd.sender, action, None, now, role=cmd.sender.role,
                         screening_id=screening_id_of(uow.session, patient_id))
        uow.on_commit(lambda: dispatch.evaluate(stored.enqueue))
        uow.commit()
    facts = sum(len(item.facts) for index, item in enumerate(cmd.items) if index not in stored.refused)
    metrics.MESSAGES.labels(cmd.channel, "stored").inc()
    metrics.FACTS.inc(facts)
    log.info("%s message %s from %s stored: %d facts, %d patients to screen", cmd.channel, stored.message_pk,
             cmd.sender.name, facts, len(stored.enqueue))
    return stored


def _posted(cmd: RecordMessage, now, message_pk: int | None, dropped: bool) -> dict:
    """The audit row of a message stored (or, every item naming an objected child, dropped)."""
    return audit.row(cmd.sender, "post", f"Message/{message_pk}" if message_pk else "dropped: an objected child",
                     now, role=cmd.sender.role, outcome="dropped" if dropped else None)
