"""``myocit site identifier-system``: the identifier systems bound to sites (contract §13)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, handled, with_runtime

site_app = typer.Typer(help="Sites: the identifier systems bound to them (contract §13).", no_args_is_help=True)
identifier_system_app = typer.Typer(help="Identifier systems (a hospital's record numbers) bound to sites: a "
                                         "Patient of another site carrying one is refused.", no_args_is_help=True)
site_app.add_typer(identifier_system_app, name="identifier-system")


@identifier_system_app.command("add")
@with_runtime
def identifier_system_add(
    rt,
    system: str = typer.Argument(..., help="The identifier system, as Patient.identifier.system says it."),
    site: list[str] = typer.Option(..., "--site", help="A site it belongs to; repeat for several."),
) -> None:
    """Bind an identifier system to sites."""
    from service import identifier_systems
    from service.commands import BindIdentifierSystem

    sites = handled(lambda: identifier_systems.bind_identifier_system(
        BindIdentifierSystem(system, tuple(site), COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"{system.strip()} belongs to {','.join(sites)}")


@identifier_system_app.command("list")
@with_runtime
def identifier_system_list(rt) -> None:
    """List the bound systems: system, sites."""
    from service import identifier_systems

    for system, sites in identifier_systems.list_identifier_systems(rt.uow()):
        typer.echo(f"{system}\t{','.join(sites)}")


@identifier_system_app.command("remove")
@with_runtime
def identifier_system_remove(
    rt,
    system: str = typer.Argument(..., help="The identifier system."),
    site: list[str] = typer.Option([], "--site", help="Unbind from this site only; repeat for several."),
) -> None:
    """Unbind an identifier system from sites (every site without --site)."""
    from service import identifier_systems
    from service.commands import UnbindIdentifierSystem

    removed = handled(lambda: identifier_systems.unbind_identifier_system(
        UnbindIdentifierSystem(system, tuple(site), COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"{system.strip()}: {removed} binding(s) removed")
