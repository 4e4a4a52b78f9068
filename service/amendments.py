"""Protocol amendments (contract §10): the versions, what changed between two, whom a candidate would
move (shadow: stored nowhere, no alert), and activating one (stored, audited, everyone re-screened)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from config.protocol_files import ProtocolError, load_protocol_files, locate, read_version_files, version_folders
from domain import Protocol, evaluate
from domain.amendments import Change, diff, moved
from store import audit, protocols
from store.uow import UnitOfWork
from service.commands import ActivateProtocol, ShadowAmendment
from service.errors import Invalid
from service.ports import Clock, Dispatcher

log = logging.getLogger("myocit.amendments")
BATCH = 500
TRIGGER = "protocol-amendment"


@dataclass(frozen=True)
class Version:
    """A version found (contract §10), by its folder's name."""

    name: str
    folder: Path
    protocol: Protocol | None
    problem: str | None
    """Why it does not load (file and key), or None."""


@dataclass(frozen=True)
class Candidate:
    name: str
    files: dict[str, str]
    protocol: Protocol


def load_candidate(version: str, extra: Path | None) -> Candidate:
    """A version by name or a folder path; ``Invalid`` naming the file and key when it does not load."""
    try:
        folder = locate(version, extra)
        files = read_version_files(folder)
        return Candidate(folder.name, files, load_protocol_files(folder.name, files))
    except ProtocolError as exc:
        raise Invalid(str(exc)) from None


def versions(extra: Path | None) -> list[Version]:
    found = []
    for name, folder in version_folders(extra).items():
        try:
            found.append(Version(name, folder, load_protocol_files(name, read_version_files(folder)), None))
        except ProtocolError as exc:
            found.append(Version(name, folder, None, str(exc)))
    return found


def active_name(uow: UnitOfWork, default: str) -> str:
    with uow:
        row = protocols.active(uow.session)
        return row.name if row is not None else default


def compare_versions(old: Protocol, new: Protocol) -> list[Change]:
    return diff(old, new)


# --- shadow ---------------------------------------------------------------------------------------


class ShadowBatch(NamedTuple):
    """What one batch of a shadow run found: the children that move, and those that could not be
    screened (patient, site and the error's kind, no data of theirs)."""

    changes: list[dict]
    failed: list[dict]


def shadow_batch(pks: list[int], uow: UnitOfWork, *, active: Protocol, candidate: Protocol, as_of) -> ShadowBatch:
    """The children of ``pks`` whose status moves under ``candidate``. Reads only. A child whose
    screening raises is reported as failed and the batch goes on: one child never stops a run."""
    with uow:
        changes, failed = [], []
        for row, facts in protocols.facts_of(uow.session, pks):
            try:
                now = evaluate(protocols.record_of(row, facts, active), active, as_of)
                then = evaluate(protocols.record_of(row, facts, candidate), candidate, as_of)
            except Exception as exc:  # noqa: BLE001 - any defect of one child's screening is reported, not fatal
                # The error's kind only: its message or traceback may quote patient data.
                log.error("shadow run: patient pk=%s could not be screened (%s)", row.pk, type(exc).__name__)
                failed.append({"patient": row.id, "site": row.site, "error": type(exc).__name__})
                continue
            found = moved(now, then, row.site)
            if found is not None:
                changes.append(found.to_json())
        return ShadowBatch(changes, failed)


def shadow(cmd: ShadowAmendment, uow: UnitOfWork, *, active_version: str, active: Protocol,
           candidate: Candidate, clock: Clock,
           mapper: Callable[[Iterable[list[int]]], Iterable[tuple[int, ShadowBatch]]] | None = None,
           progress: Callable[[int, int], None] | None = None) -> dict:
    """Every registered child (of ``cmd.site``) screened under both versions from its stored facts, in
    batches (bounded memory); ``mapper`` runs the batches (a pool of processes; by default here).
    Stores no screening and raises no alert; the report itself is kept for the admin pages, audited.
    The report is contract §10's JSON, with ``failed``: the children that could not be screened."""
    def here(batches):
        for pks in batches:
            yield len(pks), shadow_batch(pks, uow, active=active, candidate=candidate.protocol, as_of=cmd.as_of)

    with uow:
        total = protocols.count_registered(uow.session, cmd.site)
    batches = _batches(uow, cmd.site)
    screened, changes, failed = 0, [], []
    for count, found in (mapper or here)(batches):
        screened += count
        changes.extend(found.changes)
        failed.extend(found.failed)
        if progress is not None:
            progress(screened, total)
    changes.sort(key=lambda c: c["patient"])
    failed.sort(key=lambda c: c["patient"])
    report = {"active": active_version, "candidate": candidate.name, "as_of": cmd.as_of.isoformat(),
              "screened": screened, "changes": changes, "failed": failed}
    with uow:
        now = clock.now()
        protocols.save_shadow_report(uow.session, {**report, "site": cmd.site, "at": now.isoformat()},
                                     cmd.actor, now)
        audit.record(uow.session, cmd.actor, "protocol-shadow", f"Protocol/{candidate.name}", now)
        uow.commit()
    log.info("shadow run of %s: %d screened, %d would change status, %d could not be screened", candidate.name,
             screened, len(changes), len(failed))
    return report


def _batches(uow: UnitOfWork, site: str | None):
    """Keyset pages of pks, each read in its own short transaction: no transaction spans the run."""
    after = 0
    while True:
        with uow:
            pks = protocols.registered_after(uow.session, site, after, BATCH)
        if not pks:
            return
        yield pks
        after = pks[-1]


# --- activation -----------------------------------------------------------------------------------


def activate(cmd: ActivateProtocol, uow: UnitOfWork, *, candidate: Candidate, current: Protocol,
             clock: Clock, dispatch: Dispatcher) -> dict:
    """Store ``candidate`` as the active version (audited: who, when) and mark every registered child
    pending in the same transaction; after commit, send their evaluations in batches. The workers
    evaluate under the stored active version and stamp each screening ``protocol-amendment``.

    Idempotent enough to re-run: activating again stores a new activation and re-screens again; a
    send that is lost is re-sent by the sweeper, since every child is marked pending durably first.
    """
    if candidate.protocol.version == current.version and candidate.protocol.model_dump() != current.model_dump():
        raise Invalid(f"{candidate.name} names version {candidate.protocol.version!r}, the active version's: "
                      "an amendment must name a new version in its protocol.yaml")
    with uow:
        now = clock.now()
        pk = protocols.record_activation(uow.session, candidate.name, candidate.protocol.version,
                                         candidate.files, cmd.actor, now)
        marked = protocols.mark_all_for_rescreening(uow.session, pk, now)
        audit.record(uow.session, cmd.actor, "protocol-activate", f"Protocol/{candidate.name}", now)
        uow.commit()
    sent, after = 0, 0
    while True:
        with uow:
            pks = protocols.pending_batch(uow.session, after, BATCH)
        if not pks:
            break
        dispatch.evaluate(pks)
        sent, after = sent + len(pks), pks[-1]
    log.info("protocol %s activated: %d patients marked, %d sent for re-screening", candidate.name, marked, sent)
    return {"activation": pk, "name": candidate.name, "version": candidate.protocol.version,
            "activated_at": now.isoformat(), "by": cmd.actor, "patients": marked}


def still_pending(uow: UnitOfWork) -> int:
    """How many registered children wait for their screening (what an activation's progress counts down)."""
    with uow:
        return protocols.pending_count(uow.session)


def trigger_for(screened_version: str | None, version: str, asked: str) -> str:
    """``protocol-amendment`` when the child's last stored screening (``screened_version``, read with
    its row under the lock) was made under another version (whatever sent this evaluation: the
    activation, the sweeper re-sending it, new data); else the trigger asked for."""
    return TRIGGER if screened_version is not None and screened_version != version else asked
