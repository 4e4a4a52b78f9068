"""Group mappings (contract §14): which groups of the hospital's OpenID provider give which role and
sites at sign-in. Every act is audited with who did it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.access import mapping_problem
from store import access as store
from store import audit
from store.models import AccessMapping, row_id_in_range
from store.uow import UnitOfWork
from service.commands import MapGroup, UnmapGroup
from service.errors import Invalid, NotFound
from service.ports import Clock


@dataclass(frozen=True)
class MappingSummary:
    """A mapping as its administrator is told about it."""

    pk: int
    group: str
    role: str
    sites: list[str]
    created_at: datetime
    removed_at: datetime | None

    @classmethod
    def of(cls, row: AccessMapping) -> MappingSummary:
        return cls(row.pk, row.group_name, row.role, sorted(row.sites or ()), row.created_at, row.removed_at)


def map_group(cmd: MapGroup, uow: UnitOfWork, *, clock: Clock) -> MappingSummary:
    """``Invalid`` when the group, role or sites do not fit (§13: every role but admin names sites)."""
    problem = mapping_problem(cmd.group, cmd.role, cmd.sites)
    if problem is not None:
        raise Invalid(problem)
    sites = sorted({s.strip() for s in cmd.sites if s.strip()})
    with uow:
        row = store.create_mapping(uow.session, cmd.group.strip(), cmd.role, sites, clock.now())
        audit.record(uow.session, cmd.actor, "access-map", f"AccessMapping/{row.pk}", clock.now())
        made = MappingSummary.of(row)
        uow.commit()
    return made


def unmap_group(cmd: UnmapGroup, uow: UnitOfWork, *, clock: Clock) -> MappingSummary:
    """Idempotent: unmapping twice keeps the first date. The sessions the mapping granted end at their
    next request, since every request checks the mappings it was granted by."""
    with uow:
        row = store.remove_mapping(uow.session, cmd.mapping_id, clock.now()) if row_id_in_range(cmd.mapping_id) \
            else None
        if row is None:
            raise NotFound(f"no mapping {cmd.mapping_id} (see `myocit access list`)")
        audit.record(uow.session, cmd.actor, "access-unmap", f"AccessMapping/{cmd.mapping_id}", clock.now())
        removed = MappingSummary.of(row)
        uow.commit()
    return removed


def list_mappings(uow: UnitOfWork) -> list[MappingSummary]:
    with uow:
        return [MappingSummary.of(row) for row in store.mappings(uow.session)]
