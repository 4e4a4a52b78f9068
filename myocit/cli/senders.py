"""``myocit sender``: the HL7 v2 systems that may send over MLLP, and for which sites (contract §6, §13)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, handled, with_runtime

sender_app = typer.Typer(help="HL7 v2 senders over MLLP (MSH-3, MSH-4) and the sites each may send for.",
                         no_args_is_help=True)


def _sender_bindings(row) -> str:
    bound = [f"from {','.join(row.addresses)}"] if row.addresses else []
    bound += [f"certificate {','.join(row.certificates)}"] if row.certificates else []
    return "".join(f"\t{b}" for b in bound)


@sender_app.command("create")
@with_runtime
def sender_create(
    rt,
    application: str = typer.Option(..., "--application", help="MSH-3 (first component) as the sender writes it."),
    facility: str = typer.Option(..., "--facility", help="MSH-4 (first component) as the sender writes it."),
    site: list[str] = typer.Option(..., "--site", help="A site it sends for; repeat for several."),
    from_: list[str] = typer.Option([], "--from", help="An address or CIDR range it may send from; repeat for "
                                    "several. Without it, any address MYOCIT_MLLP_ALLOW lets in."),
    certificate: list[str] = typer.Option([], "--certificate", help="The SHA-256 fingerprint of the TLS client "
                                          "certificate it must send with; repeat for several."),
) -> None:
    """Register a sending system: its messages are taken with a lab token's authority over its sites."""
    from service import senders
    from service.commands import RegisterSender

    command = RegisterSender(application, facility, tuple(site), COMMAND_LINE, tuple(from_), tuple(certificate))
    row = handled(lambda: senders.register_sender(command, rt.uow(), clock=rt.clock))
    typer.echo(f"sender {row.pk}: {row.application}@{row.facility} sends for {','.join(row.sites)}"
               f"{_sender_bindings(row)}")


@sender_app.command("list")
@with_runtime
def sender_list(rt) -> None:
    """List the senders: id, application, facility, sites, created, revoked."""
    from service import senders

    shown = rt.clock.shown
    for row in senders.list_senders(rt.uow()):
        revoked = f"revoked {shown(row.revoked_at)}" if row.revoked_at else "active"
        typer.echo(f"{row.pk}\t{row.application}\t{row.facility}\t{','.join(row.sites)}\t"
                   f"created {shown(row.created_at)}\t{revoked}{_sender_bindings(row)}")


@sender_app.command("revoke")
@with_runtime
def sender_revoke(rt, sender_id: int = typer.Argument(..., help="The id shown by `myocit sender list`.")) -> None:
    """Revoke a sender: its next messages get AR (unknown sender)."""
    from service import senders
    from service.commands import RevokeSender

    row = handled(lambda: senders.revoke_sender(RevokeSender(sender_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"sender {sender_id} ({row.application}@{row.facility}) revoked")
