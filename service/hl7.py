"""Answering one HL7 v2 message, whichever way it came (``POST /hl7v2`` with a lab's token, MLLP from a
registered sender): the same reading, the same store, the same refusals, the same ACK (contract §6).

The ACK is built only once ``service.intake.record_message`` has committed, so an AA always means
the message is stored. A repeat of an MSH-10 already stored for the same sender (MSH-3 + MSH-4) stores
nothing and is answered the original's code again (``store.intake.store_message``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.identity import Caller, Refusal, Refused
from ingest import hl7v2
from ingest.errors import InvalidHl7
from ingest.submissions import hl7_items
from service import intake, senders
from service.commands import ReceiveHl7, RecordMessage
from service.ports import Clock, Dispatcher
from store.uow import UnitOfWork

CONTENT_TYPE = "x-application/hl7-v2+er7"
REFUSAL_CODES = {Refusal.AMBIGUOUS: 204}
"""HL7 table 0357: 204 unknown key identifier; every other refusal an application error (207)."""


_SENDER_REFUSALS = {
    None: InvalidHl7("unknown sender: MSH-3 and MSH-4 name no registered sender", ack_code="AR", error_code=207,
                     location="MSH^1^3"),
    "elsewhere": InvalidHl7("sender not bound to this address or certificate: MSH-3 and MSH-4 name a registered "
                            "sender bound to others (myocit sender create --from, --certificate)", ack_code="AR",
                            error_code=207, location="MSH^1^3"),
}


@dataclass(frozen=True)
class Hl7Answer:
    code: str
    """MSA-1: AA, AE or AR."""
    ack: str
    encoding: str
    """The character set the message was read in: the ACK is written in it too."""
    status: int
    """What ``POST /hl7v2`` answers with: 202 stored, 400 unreadable, 403 / 422 refused (§13)."""
    message_pk: int | None = None
    duplicate: bool = False


def _refusal(message, error: InvalidHl7, encoding: str, status: int, clock: Clock) -> Hl7Answer:
    return Hl7Answer(error.ack_code, hl7v2.ack_error(message, error, now=clock.now()), encoding, status)


def receive_hl7(cmd: ReceiveHl7, uow: UnitOfWork, *, clock: Clock, dispatch: Dispatcher,
                authorities: dict[str, str], max_results: int,
                max_segments: int = hl7v2.DEFAULT_MAX_SEGMENTS) -> Hl7Answer:
    """Read, check and store one message; its ACK. Nothing of a refused message is stored."""
    try:
        text, encoding = hl7v2.decode(cmd.raw)
    except InvalidHl7 as exc:
        return _refusal(cmd.raw.decode("latin-1"), exc, hl7v2.DEFAULT_CHARACTER_SET, 400, clock)
    try:
        hl7v2.check_segments(text, max_segments)
    except InvalidHl7 as exc:
        return _refusal(text.split("\r", 1)[0].split("\n", 1)[0], exc, encoding, 400, clock)
    try:
        message = hl7v2.parse_message(text)
        hl7_sender = hl7v2.sender_of(message)
    except InvalidHl7 as exc:
        return _refusal(text, exc, encoding, 400, clock)
    sender = cmd.sender
    if sender is None:
        with uow:
            sender = senders.sender_at(uow, *hl7_sender, cmd.address, cmd.certificate)
        if not isinstance(sender, Caller):
            return _refusal(message, _SENDER_REFUSALS[sender], encoding, 403, clock)
    try:
        items, control_id = hl7_items(message, authorities=authorities, max_results=max_results)
    except InvalidHl7 as exc:
        return _refusal(message, exc, encoding, 400, clock)
    try:
        stored = intake.record_message(
            RecordMessage(channel=cmd.channel, content_type=CONTENT_TYPE, body=text, sender=sender, items=items,
                          control_id=control_id, hl7_sender=hl7_sender, ack_code="AA"),
            uow, clock=clock, dispatch=dispatch)
    except Refused as exc:
        refusal = InvalidHl7(exc.refusal.explanation, error_code=REFUSAL_CODES.get(exc.refusal, 207),
                             location="PID^1^3")
        return _refusal(message, refusal, encoding, 403 if exc.refusal.http_status == 403 else 422, clock)
    duplicate = stored.duplicate_of is not None
    code = stored.ack_code or "AA"
    said = "already stored" if duplicate else "stored"
    return Hl7Answer(code, hl7v2.ack(message, code, said, now=clock.now()), encoding, 202, stored.message_pk,
                     duplicate)
