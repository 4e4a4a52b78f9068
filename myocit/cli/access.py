"""``myocit access``: which groups of the hospital's OpenID provider give which role and sites on the
pages (contract §14)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, handled, with_runtime

access_app = typer.Typer(help="Group mappings: the provider's groups that give a role and sites at sign-in.",
                         no_args_is_help=True)


def _sites(row) -> str:
    return "*" if row.role == "admin" else ",".join(row.sites)


@access_app.command("map")
@with_runtime
def access_map(
    rt,
    group: str = typer.Argument(..., help="The group as the provider names it in the groups claim."),
    role: str = typer.Option(..., "--role", help="coordinator, investigator, admin or monitor."),
    site: list[str] = typer.Option([], "--site", help="A site the group's people act for; repeat for several "
                                   "(none for admin)."),
) -> None:
    """Map a group to a role and sites: its people get them at their next sign-in."""
    from service import access_mappings
    from service.commands import MapGroup

    row = handled(lambda: access_mappings.map_group(MapGroup(group, role, tuple(site), COMMAND_LINE), rt.uow(),
                                                    clock=rt.clock))
    typer.echo(f"mapping {row.pk}: group {row.group} gives {row.role} for {_sites(row)}")


@access_app.command("list")
@with_runtime
def access_list(rt) -> None:
    """List the mappings: id, group, role, sites, created, removed."""
    from service import access_mappings

    shown = rt.clock.shown
    for row in access_mappings.list_mappings(rt.uow()):
        state = f"removed {shown(row.removed_at)}" if row.removed_at else "active"
        typer.echo(f"{row.pk}\t{row.group}\t{row.role}\t{_sites(row)}\tcreated {shown(row.created_at)}\t{state}")


@access_app.command("unmap")
@with_runtime
def access_unmap(rt, mapping_id: int = typer.Argument(..., help="The id shown by `myocit access list`.")) -> None:
    """Remove a mapping: the sessions it granted end within 5 seconds."""
    from service import access_mappings
    from service.commands import UnmapGroup

    row = handled(lambda: access_mappings.unmap_group(UnmapGroup(mapping_id, COMMAND_LINE), rt.uow(),
                                                      clock=rt.clock))
    typer.echo(f"mapping {mapping_id} (group {row.group}) removed")
