"""``myocit ehr``: the EHRs that may call the CDS Hooks service, and for which sites (contract §15)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, handled, with_runtime

ehr_app = typer.Typer(help="EHRs calling the CDS Hooks service (patient-view cards) and the sites each sees.",
                      no_args_is_help=True)


def _line(row, shown) -> str:
    removed = f"removed {shown(row.removed_at)}" if row.removed_at else "active"
    return (f"{row.pk}\t{row.issuer}\t{','.join(row.sites)}\tkeys {row.jwks_url}\tfhir {row.fhir_server or '-'}\t"
            f"created {shown(row.created_at)}\t{removed}")


@ehr_app.command("add")
@with_runtime
def ehr_add(
    rt,
    issuer: str = typer.Option(..., "--issuer", help="The `iss` of the JWTs the EHR signs its calls with."),
    jwks_url: str = typer.Option(..., "--jwks-url", help="Where the EHR publishes its public keys (JWKS)."),
    fhir_server: str = typer.Option(None, "--fhir-server", help="The EHR's FHIR base: read for the Patient when "
                                    "a call carries no prefetch (no other address is ever called)."),
    site: list[str] = typer.Option(..., "--site", help="A site whose children it sees cards for; repeat for "
                                   "several."),
) -> None:
    """Register an EHR: its signed patient-view calls get cards for children of its sites."""
    from service import ehrs
    from service.commands import AddEhr

    row = handled(lambda: ehrs.add_ehr(AddEhr(issuer, jwks_url, fhir_server, tuple(site), COMMAND_LINE), rt.uow(),
                                       clock=rt.clock))
    typer.echo(f"ehr {row.pk}: {row.issuer} sees cards for {','.join(row.sites)}")


@ehr_app.command("list")
@with_runtime
def ehr_list(rt) -> None:
    """List the EHRs: id, issuer, sites, keys, FHIR base, created, removed."""
    from service import ehrs

    for row in ehrs.list_ehrs(rt.uow()):
        typer.echo(_line(row, rt.clock.shown))


@ehr_app.command("remove")
@with_runtime
def ehr_remove(rt, ehr_id: int = typer.Argument(..., help="The id shown by `myocit ehr list`.")) -> None:
    """Remove an EHR: its next calls are refused (401)."""
    from service import ehrs
    from service.commands import RemoveEhr

    row = handled(lambda: ehrs.remove_ehr(RemoveEhr(ehr_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"ehr {ehr_id} ({row.issuer}) removed")
