"""Reading a child's screening: what was stored (contract §5.1), or one computed for another date."""

from __future__ import annotations

from config.language import screening_in
from domain import evaluate
from store import audit, screening, views
from store.uow import UnitOfWork
from service.commands import ScreenAsOf
from service.errors import NotFound
from service.ports import Clock


def latest_stored(patient_id: str, reader, uow: UnitOfWork, *, clock: Clock, language: str = "en") -> dict | None:
    """The latest stored screening with ``screened_at``, ``pending`` and ``stored: true``, its reasons
    in ``language`` (contract §18); None while the child has none yet (its first evaluation is
    pending). Audited as a view."""
    with uow:
        row = views.visible_patient(uow.session, reader, patient_id)
        if row is None:
            raise NotFound(f"no patient {patient_id} for this site")
        stored = views.latest_screening(uow.session, row)
        audit.record(uow.session, reader, "view", None, clock.now(),
                     role=reader.role, screening_id=row.screening_id)
        uow.commit()
    return stored.to_json(language) if stored is not None else None


def screen_as_of(cmd: ScreenAsOf, uow: UnitOfWork, *, protocol, clock: Clock, language: str = "en") -> dict:
    """Computed from the stored facts, stored nowhere, raising no alert: ``stored: false``."""
    with uow:
        row = views.visible_patient(uow.session, cmd.reader, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id} for this site")
        record, _ = screening.load_record(uow.session, row, protocol)
        computed = evaluate(record, protocol, cmd.as_of)
        result = screening_in(computed.to_json(), computed.reasons(), language)
        audit.record(uow.session, cmd.reader, "view", None, clock.now(),
                     role=cmd.reader.role, screening_id=row.screening_id)
        uow.commit()
    return {**result, "stored": False}
