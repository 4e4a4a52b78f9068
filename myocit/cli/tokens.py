"""``myocit token``: the bearer tokens of the HTTP API and the sites each acts for (contract §13)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, handled, with_runtime

token_app = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)


@token_app.command("create")
@with_runtime
def token_create(
    rt,
    role: str = typer.Option(..., help="lab | coordinator | investigator | admin | monitor (the sponsor's: "
                             "funnel and screening log of its sites, with pseudonyms)"),
    site: list[str] = typer.Option([], "--site", help="A site the token acts for; repeat for several. Required "
                                   "for lab, coordinator, investigator and monitor; none for admin."),
    name: str | None = typer.Option(None, help="Who or what holds it (shown in the audit log)."),
) -> None:
    """Create a bearer token and print it once (only its hash is stored)."""
    from service import administration
    from service.commands import CreateToken

    token = handled(lambda: administration.create_token(CreateToken(role, tuple(site), name, COMMAND_LINE),
                                                        rt.uow(), clock=rt.clock))
    typer.echo(token)


@token_app.command("list")
@with_runtime
def token_list(rt) -> None:
    """List the tokens: id, role, sites, holder, created, revoked (a token itself is never shown again)."""
    from domain.identity import SITE_BOUND_ROLES
    from store.tokens import tokens

    shown = rt.clock.shown
    with rt.uow() as uow:
        for row in tokens(uow.session):
            revoked = f"revoked {shown(row.revoked_at)}" if row.revoked_at else "active"
            sites = ",".join(row.sites or ()) or ("NO SITE: refused" if row.role in SITE_BOUND_ROLES else "*")
            typer.echo(f"{row.pk}\t{row.role}\t{sites}\t{row.name or '-'}\t"
                       f"created {shown(row.created_at)}\t{revoked}")


@token_app.command("sites")
@with_runtime
def token_sites(
    rt,
    token_id: int = typer.Argument(..., help="The id shown by `myocit token list`."),
    site: list[str] = typer.Option(..., "--site", help="A site the token acts for; repeat for several."),
) -> None:
    """Bind a token to its sites (replacing the ones it had); audited."""
    from service import administration
    from service.commands import BindTokenSites

    row = handled(lambda: administration.bind_token_sites(BindTokenSites(token_id, tuple(site), COMMAND_LINE),
                                                          rt.uow(), clock=rt.clock))
    typer.echo(f"token {token_id} acts for {','.join(row.sites)}")


@token_app.command("revoke")
@with_runtime
def token_revoke(rt, token_id: int = typer.Argument(..., help="The id shown by `myocit token list`.")) -> None:
    """Revoke a token for good (API processes stop accepting it within a few seconds)."""
    from service import administration
    from service.commands import RevokeToken

    row = handled(lambda: administration.revoke_token(RevokeToken(token_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"token {token_id} ({row.name or f'token-{row.pk}'}) revoked")
