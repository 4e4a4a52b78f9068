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


@patient_app.command("object")
def patient_object(
    patient_id: str = typer.Argument(..., help="The child's Patient id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept nowhere but the act's audit outcome)."),
) -> None:
    """Record the family's objection: everything identifiable about the child is erased in one
    transaction, leaving a tombstone (screening id, site, date, who, keyed hashes of its identifiers);
    later data for it is acknowledged and never stored (contract §17)."""
    _object(patient_id, reason)


@with_runtime
def _object(rt, patient_id: str, reason: str | None) -> None:
    from domain.identity import Caller
    from service.commands import RecordObjection
    from service.data_protection import record_objection

    done = handled(lambda: record_objection(RecordObjection(patient_id, reason, Caller(COMMAND_LINE, "admin")),
                                            rt.uow(), clock=rt.clock))
    typer.echo(f"objection recorded: the child is erased; its screening id {done['screening_id']} stays in the log")
