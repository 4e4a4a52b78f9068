"""What people record on the pages: an investigator's attestation, a consent refusal or withdrawal.

Each becomes a FHIR resource, validated by the same ingest code and stored through the same path as a
lab's message (``service.intake``), under the same identity and authority checks (contract §13), so
the child is re-evaluated by a worker exactly as after a lab result.
"""

from __future__ import annotations

import json
import uuid

from domain.criteria import CRITERIA
from ingest.errors import InvalidInput
from ingest.media_types import FHIR_JSON
from ingest.submissions import bundle_items, resource_items
from store import views
from service.commands import (
    Judgement,
    RecordAttestation,
    RecordAttestations,
    RecordConsentDecision,
    RecordMessage,
)
from service.errors import Invalid, NotFound
from service.intake import record_message
from store.intake import Stored

ATTESTED = frozenset(c.id for c in CRITERIA if c.attested)
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_DECISIONS = {"rejected": "refused", "inactive": "withdrawn"}


def _visible(uow, caller, patient_id: str) -> None:
    with uow:
        if views.visible_patient(uow.session, caller, patient_id) is None:
            raise NotFound(f"No patient {patient_id} for this site.")


REASON_PREFIX = "Reason for change: "


def _attested_before(uow, caller, patient_id: str, criterion: str) -> bool:
    """Whether an investigator already attested ``criterion`` for the child on these pages (an
    attestation a site's system posted with ``POST /fhir`` carries its own trail, and does not count)."""
    with uow:
        row = views.visible_patient(uow.session, caller, patient_id)
        return row is not None and any(c == criterion and page is not None
                                       for _, c, _, _, page in views.attestations_of(uow.session, row))


def _record(resource: dict, caller, action: str, patient_id: str, *, uow, clock, dispatch, protocol) -> Stored:
    """The form's resource, read by the same ingest code as a lab's, recorded through the intake path."""
    raw = json.dumps(resource, ensure_ascii=False)
    try:
        if resource["resourceType"] == "Bundle":
            items = bundle_items(raw.encode("utf-8"), clock.today(), protocol).items
        else:
            items, _ = resource_items(raw.encode("utf-8"), resource["resourceType"], clock.today(), protocol)
    except InvalidInput as exc:
        raise Invalid(str(exc)) from exc
    command = RecordMessage(channel="ui", content_type=FHIR_JSON, body=raw, sender=caller, items=items,
                            audited=((action, patient_id),) * len(items))
    return record_message(command, uow, clock=clock, dispatch=dispatch)


def record_attestation(cmd: RecordAttestation, uow, *, clock, dispatch, protocol) -> Stored:
    """Raises ``service.errors.NotFound`` for a child not of the investigator's sites, ``Invalid`` for
    a form that does not say what the protocol needs."""
    judgement = Judgement(cmd.criterion, cmd.verdict, cmd.justification, cmd.reason)
    return record_attestations(RecordAttestations(cmd.patient_id, (judgement,), cmd.investigator), uow,
                               clock=clock, dispatch=dispatch, protocol=protocol)


def record_attestations(cmd: RecordAttestations, uow, *, clock, dispatch, protocol) -> Stored:
    """Every judgement of the form as its own attestation (one Observation, one audit row each).

    One judgement is posted as its Observation; several as one transaction Bundle of them, through
    the same intake path: the form is recorded whole or not at all, and the timeline shows what it
    did as one line.
    """
    _visible(uow, cmd.investigator, cmd.patient_id)
    if not cmd.judgements:
        raise Invalid("Choose a verdict for at least one criterion.")
    chosen = [j.criterion for j in cmd.judgements]
    if len(set(chosen)) != len(chosen):
        raise Invalid("Give each criterion one verdict.")
    observations = [_observation(cmd, judgement, uow, clock) for judgement in cmd.judgements]
    resource = observations[0] if len(observations) == 1 else {
        "resourceType": "Bundle", "type": "transaction",
        "entry": [{"fullUrl": f"urn:uuid:{o['id'].removeprefix('attestation-')}", "resource": o,
                   "request": {"method": "PUT", "url": f"Observation/{o['id']}"}} for o in observations],
    }
    return _record(resource, cmd.investigator, "attest", cmd.patient_id, uow=uow, clock=clock,
                   dispatch=dispatch, protocol=protocol)


def _observation(cmd: RecordAttestations, judgement: Judgement, uow, clock) -> dict:
    """The attestation of one judgement as the FHIR Observation of contract §2; ``Invalid`` when the
    form does not say what the protocol needs for it."""
    cid = judgement.criterion
    if cid not in ATTESTED:
        raise Invalid("Choose one of the criteria that need an investigator's attestation.")
    if judgement.verdict not in ("pass", "fail"):
        raise Invalid(f"Choose whether {cid} stands in the way (fail) or not (pass).")
    justification = (judgement.justification or "").strip() or (cmd.justification or "").strip()
    if not justification or len(justification) > 2000:
        raise Invalid(f"Give a justification for {cid} (up to 2000 characters), or one for all.")
    reason = (judgement.reason or "").strip()
    if len(reason) > 2000:
        raise Invalid("Give a reason for change of up to 2000 characters.")
    if not reason and _attested_before(uow, cmd.investigator, cmd.patient_id, cid):
        raise Invalid(f"{cid} already has an attestation: give the reason for changing it.")
    return {
        "resourceType": "Observation",
        "id": f"attestation-{uuid.uuid4().hex}",
        "status": "final",
        "code": {"coding": [{"system": "urn:myocit:criterion", "code": cid}]},
        "subject": {"reference": f"Patient/{cmd.patient_id}"},
        "effectiveDateTime": clock.now_on_screening_day().isoformat(),
        "performer": [{"display": cmd.investigator.name}],
        "valueCodeableConcept": {"coding": [{"system": "urn:myocit:verdict", "code": judgement.verdict}]},
        "note": [{"text": justification}, *([{"text": REASON_PREFIX + reason}] if reason else [])],
    }


def record_consent_decision(cmd: RecordConsentDecision, uow, *, clock, dispatch, protocol) -> Stored:
    _visible(uow, cmd.recorder, cmd.patient_id)
    if cmd.decision not in CONSENT_DECISIONS:
        raise Invalid("Choose whether consent was refused or withdrawn.")
    resource = {
        "resourceType": "Consent",
        "id": f"consent-{uuid.uuid4().hex}",
        "status": cmd.decision,
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "research"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "57016-8"}]}],
        "patient": {"reference": f"Patient/{cmd.patient_id}"},
        "dateTime": clock.now_on_screening_day().isoformat(),
    }
    return _record(resource, cmd.recorder, "consent", cmd.patient_id, uow=uow, clock=clock, dispatch=dispatch,
                   protocol=protocol)
