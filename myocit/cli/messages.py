"""``myocit messages``: the message store, read and derived again (contract §11)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, fail, with_runtime

messages_app = typer.Typer(help="The message store: what came in, when, from whom, what it became.",
                            no_args_is_help=True)


def _since(text: str | None, clock):
    from datetime import datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since: not an ISO date or timestamp (2026-12-01 or 2026-12-01T08:00:00+01:00)")
    return clock.local(moment)


@messages_app.command("list")
@with_runtime
def messages_list(
    rt,
    channel: str | None = typer.Option(None, help="fhir, hl7v2, mllp, ui or import."),
    status: str | None = typer.Option(None, help="filed, waiting (kept for a child not registered) or no-facts."),
    since: str | None = typer.Option(None, help="Received at or after (ISO date or timestamp; without an offset, "
                                     "at the sites' time zone, MYOCIT_TIMEZONE)."),
    limit: int = typer.Option(200, help="At most this many, newest first."),
) -> None:
    """List stored messages, newest first: id, received, channel, sender, control id and ACK, facts,
    status, patients (screening ids)."""
    from store import messages

    shown = rt.clock.shown
    with rt.uow() as uow:
        for m in messages.listing(uow.session, channel=channel, since=_since(since, rt.clock), limit=limit):
            if status and m.status != status:
                continue
            typer.echo(f"{m.pk}\t{shown(m.received_at, seconds=True)}\t{m.channel}\t{m.sender or '-'}\t"
                       f"{m.control_id or '-'}\t{m.ack_code or '-'}\t{m.facts} facts\t{m.status}\t"
                       f"{','.join(m.patients) or '-'}")


@messages_app.command("show")
@with_runtime
def messages_show(rt, message_id: int = typer.Argument(..., help="The id shown by `myocit messages list`.")) -> None:
    """One message: what came in (verbatim), when, from whom, what it became (its facts), its ACK."""
    from store import messages

    with rt.uow() as uow:
        found = messages.summary(uow.session, message_id)
        if found is None:
            fail(f"no message {message_id}")
        row = messages.message(uow.session, message_id)
        received = rt.clock.shown(found.received_at, seconds=True)
        typer.echo(f"message {found.pk}: {found.channel} from {found.sender or '-'} at {received}")
        typer.echo(f"content type {row.content_type}; control id {found.control_id or '-'}; "
                   f"acknowledged {found.ack_code or ('stored' if found.channel != 'hl7v2' else '-')}")
        typer.echo(f"became: {found.facts} facts, {found.status}; patients {', '.join(found.patients) or '-'}")
        for fact in messages.facts_of(uow.session, message_id):
            typer.echo(f"  fact {fact.pk}\t{fact.kind}\t{fact.source}\t{fact.effective}\t"
                       f"{'patient ' + str(fact.patient_pk) if fact.patient_pk else 'kept for ' + fact.subject_key}")
        typer.echo("body:")
        typer.echo(row.body)


@messages_app.command("reprocess")
def messages_reprocess(
    message_id: int | None = typer.Argument(None, help="One message's id."),
    since: str | None = typer.Option(None, help="Every message received at or after this (ISO date or timestamp; "
                                     "without an offset, at the sites' time zone)."),
) -> None:
    """Derive the facts of stored messages again after a mapping fix; the children whose facts changed
    are re-screened (an alert only for a real change). Idempotent."""
    if (message_id is None) == (since is None):
        fail("give one message id or --since T")
    _reprocess(message_id, since)


@with_runtime
def _reprocess(rt, message_id: int | None, since: str | None) -> None:
    from service.commands import ReprocessMessages
    from service.messages import reprocess
    from store import messages

    if message_id is not None:
        pks = (message_id,)
    else:
        with rt.uow() as uow:
            pks = tuple(messages.pks_since(uow.session, _since(since, rt.clock)))
    done = reprocess(ReprocessMessages(pks, COMMAND_LINE), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                     protocol=rt.protocol, authorities=rt.settings.authority_systems(),
                     max_results=rt.settings.max_results_per_message)
    for pk, why in done.unreadable.items():
        typer.echo(f"message {pk}: not read again ({why}); its facts are unchanged", err=True)
    typer.echo(f"{len(pks)} messages: {len(done.changed)} re-derived, {len(done.unchanged)} unchanged, "
               f"{len(done.unreadable)} unreadable, {len(done.missing)} missing; {done.queued} patients re-screened"
               + (f"; {done.left_out} facts naming a new subject left out (send the message again)"
                  if done.left_out else ""))
    if done.missing and message_id is not None:
        raise typer.Exit(2)
