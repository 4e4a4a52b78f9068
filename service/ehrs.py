"""Registered EHRs (contract §15, ``myocit ehr``): the issuer of the JWTs an EHR signs its CDS Hooks
calls with, where its keys are published, the FHIR base it may name, and the sites whose children it
may see cards for. Every act is audited with who did it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store import audit
from store import cds as store
from store.models import EhrRegistration, row_id_in_range
from store.tokens import TokenError
from store.uow import UnitOfWork
from service.commands import AddEhr, RemoveEhr
from service.errors import Conflict, Invalid, NotFound
from service.ports import Clock


@dataclass(frozen=True)
class EhrSummary:
    pk: int
    issuer: str
    jwks_url: str
    fhir_server: str | None
    sites: list[str]
    created_at: datetime
    removed_at: datetime | None

    @classmethod
    def of(cls, row: EhrRegistration) -> EhrSummary:
        return cls(row.pk, row.issuer, row.jwks_url, row.fhir_server, list(row.sites or ()), row.created_at,
                   row.removed_at)


def add_ehr(cmd: AddEhr, uow: UnitOfWork, *, clock: Clock) -> EhrSummary:
    """``Invalid`` for an issuer, URL or sites that do not fit; ``Conflict`` when an EHR with this
    issuer is registered already (remove it first: one issuer, one set of keys and sites)."""
    with uow:
        if store.active_ehr(uow.session, cmd.issuer.strip()) is not None:
            raise Conflict(f"an EHR with issuer {cmd.issuer.strip()} is already registered (see `myocit ehr "
                           "list`; remove it to register it again)")
        try:
            row = store.add_ehr(uow.session, cmd.issuer, cmd.jwks_url, cmd.fhir_server, list(cmd.sites),
                                clock.now())
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        audit.record(uow.session, cmd.actor, "ehr-add", f"Ehr/{row.pk}", clock.now())
        added = EhrSummary.of(row)
        uow.commit()
    return added


def remove_ehr(cmd: RemoveEhr, uow: UnitOfWork, *, clock: Clock) -> EhrSummary:
    """Idempotent: removing twice keeps the first date."""
    with uow:
        row = store.remove_ehr(uow.session, cmd.ehr_id, clock.now()) if row_id_in_range(cmd.ehr_id) else None
        if row is None:
            raise NotFound(f"no EHR {cmd.ehr_id} (see `myocit ehr list`)")
        audit.record(uow.session, cmd.actor, "ehr-remove", f"Ehr/{cmd.ehr_id}", clock.now())
        removed = EhrSummary.of(row)
        uow.commit()
    return removed


def list_ehrs(uow: UnitOfWork) -> list[EhrSummary]:
    with uow:
        return [EhrSummary.of(row) for row in store.ehrs(uow.session)]
