"""``myocit patient``: administration of registered children."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, fail, handled, with_runtime

patient_app = typer.Typer(help="Registered patients (administration).", no_args_is_help=True)


@patient_app.command("move")
def patient_move(
    patient_id: str = typer.Argument(..., help="The patient's screening id (Patient.id)."),
    site: str = typer.Option(..., "--site", help="The site that now cares for the child."),
) -> None:
    """Move a child to another site (its site is otherwise fixed at registration); audited. Earlier
    alerts stay with the site they were raised for; the child is re-screened for the new one."""
    if not site.strip() or len(site.strip()) > 64:
        fail("--site: 1 to 64 characters")
    _move(patient_id, site.strip())


@with_runtime
def _move(rt, patient_id: str, site: str) -> None:
    from service.commands import MovePatient
    from service.patients import move_patient

    before = handled(lambda: move_patient(MovePatient(patient_id, site, COMMAND_LINE), rt.uow(),
                                          clock=rt.clock, dispatch=rt.dispatch))
    typer.echo(f"patient {patient_id} moved from {before or '-'} to {site}")
