"""The investigator's confirmation of eligibility (contract §9), an electronic signature in the sense
of 21 CFR Part 11 §11.50/§11.70: who signed, when, what it means, bound by its hash to exactly the
screening signed, never changed. Whether it still stands is recomputed from the screenings stored
since; an alert overturning one says so (``service.evaluation``)."""

from __future__ import annotations

from config.language import screening_in
from domain.confirmation import (
    default_meaning,
    keys_recorded,
    refusal,
    signature_hash,
    stands,
)
from store import audit, screening, screening_log, views
from store.tokens import token_hash
from store.uow import UnitOfWork
from service.commands import ConfirmEligibility
from service.errors import Conflict, Invalid, NotAuthenticated, NotFound
from service.ports import Clock

MAX_MEANING = 1000


def confirmation_json(row, patient_id: str, *, valid: bool | None = None) -> dict:
    body = {
        "id": row.pk, "patient": patient_id,
        "signer": _signer_json(row), "role": row.role, "site": row.site,
        "signed_at": views.utc(row.signed_at).isoformat(), "meaning": row.meaning, "as_of": row.as_of.isoformat(),
        "protocol_version": row.protocol_version, "screening": row.screening_pk, "sha256": row.sha256,
        "language": row.language or "en",
    }
    if valid is not None:
        body["valid"] = valid
    return body


def _signer_json(row) -> dict:
    signer = {"token": row.token_pk, "name": row.signer_name}
    if row.signer_subject is not None:
        signer |= {"issuer": row.signer_issuer, "sub": row.signer_subject,
                   "auth_time": views.utc(row.auth_time).isoformat() if row.auth_time else None}
    return signer


def confirm_eligibility(cmd: ConfirmEligibility, uow: UnitOfWork, *, clock: Clock) -> dict:
    """Sign the latest stored screening. ``NotFound`` for a child not of the signer's sites,
    ``NotAuthenticated`` when ``reauth`` is not the signer's own live token, ``Conflict`` unless the
    latest stored screening is for ``as_of``, eligible and not pending.

    Under the patient row lock: an evaluation cannot store a newer screening between the check and
    the signature."""
    meaning = (cmd.meaning or "").strip()
    if len(meaning) > MAX_MEANING:
        raise Invalid(f"the meaning is at most {MAX_MEANING} characters")
    with uow:
        session = uow.session
        row = views.visible_patient(session, cmd.signer, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id} for this site")
        proof = cmd.reauthenticated
        if proof is None and not screening_log.token_matches(session, cmd.signer.token_pk,
                                                             token_hash(cmd.reauth or "")):
            raise NotAuthenticated("the re-entered token is not the signer's own: nothing was signed")
        locked = screening.lock_patient(session, row.pk)
        latest = screening_log.latest_screening_row(session, row.pk)
        pending = locked.pending_seq > locked.evaluated_seq
        why = refusal(latest.status if latest else None, latest.as_of if latest else None, pending, cmd.as_of)
        if why is not None:
            raise Conflict(f"eligibility cannot be signed: {why}")
        now = clock.now()
        signed = screening_log.add_confirmation(
            session, patient_pk=row.pk, screening_pk=latest.pk, token_pk=cmd.signer.token_pk,
            signer_name=cmd.signer.name[:120], role=cmd.signer.role, site=row.site, signed_at=now,
            meaning=meaning or default_meaning(latest.protocol_version, latest.as_of), as_of=latest.as_of,
            protocol_version=latest.protocol_version, language=cmd.language,
            sha256=signature_hash(screening_in(latest.result, latest.reasons, cmd.language)),
            signed_keys=keys_recorded(), signer_issuer=proof.issuer[:255] if proof else None,
            signer_subject=proof.subject[:255] if proof else None, auth_time=proof.auth_time if proof else None)
        audit.record(session, cmd.signer, "confirm-eligibility", None, now,
                     role=cmd.signer.role, screening_id=row.screening_id)
        body = confirmation_json(signed, row.id, valid=True)
        uow.commit()
    return body


def list_confirmations(patient_id: str, reader, uow: UnitOfWork, *, clock: Clock) -> list[dict]:
    """The child's confirmations, newest first, each ``valid`` while every screening stored since it
    stayed eligible and the signed screening still hashes to what was signed (over the keys that
    signature covered: one signed before §1.2 did not cover ``eligible_until``); audited as a view."""
    with uow:
        row = views.visible_patient(uow.session, reader, patient_id)
        if row is None:
            raise NotFound(f"no patient {patient_id} for this site")
        listed = [confirmation_json(c, row.id, valid=stands(signed, c.sha256, c.signed_keys, since))
                  for c, signed, since in views.confirmations_of(uow.session, row)]
        audit.record(uow.session, reader, "view-confirmations", None, clock.now(),
                     role=reader.role, screening_id=row.screening_id)
        uow.commit()
    return listed
