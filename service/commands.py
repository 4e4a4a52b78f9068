"""What the service can be asked to do. Each command names a use case in the imperative and carries
ids and values, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.identity import Caller
from ingest.items import Item


@dataclass(frozen=True)
class RecordMessage:
    """Keep an inbound message and what it says, for the patients its sender may speak for."""

    channel: str
    content_type: str
    body: str
    sender: Caller
    items: list[Item]
    control_id: str | None = None
    atomic: bool = True
    """A transaction, one resource, an HL7 message: refused whole. A batch: judged entry by entry."""
    audited: tuple[tuple[str, str], ...] = ()
    """The (action, Patient id) pairs the sender did through this message (one per attestation of a
    form), each kept as its own audit row with it, naming the child by its screening id."""
    hl7_sender: tuple[str, str] | None = None
    """HL7 v2: MSH-3 and MSH-4 (first components); with ``control_id``, what a repeat is matched on."""
    ack_code: str | None = None
    """HL7 v2: the acknowledgement code a stored message is answered with (kept for its repeats)."""


@dataclass(frozen=True)
class ReceiveFhirBundle:
    """Answer one Bundle posted to ``POST /fhir``: store what may be stored, and say so entry by entry."""

    raw: bytes
    content_type: str
    sender: Caller


@dataclass(frozen=True)
class ReceiveFhirResource:
    """Answer one resource posted to ``POST /fhir/{resource_type}``: stored whole, or refused whole."""

    raw: bytes
    resource_type: str
    """What the URL names; the body's ``resourceType`` must be the same."""
    content_type: str
    sender: Caller


@dataclass(frozen=True)
class ReceiveHl7:
    """Answer one HL7 v2 message (POST /hl7v2, MLLP): store it if it may be, and say so in an ACK.
    ``sender`` None: the registered sender its MSH-3 and MSH-4 name (MLLP carries no token)."""

    raw: bytes
    channel: str
    sender: Caller | None
    address: str | None = None
    """MLLP: the peer's address, checked against a registered sender's ``--from`` ranges."""
    certificate: str | None = None
    """MLLP over TLS: the SHA-256 (hex) of the client certificate, checked against ``--certificate``."""


@dataclass(frozen=True)
class RecordAttestation:
    """An investigator's judgement on one criterion of one child, with its justification."""

    patient_id: str
    criterion: str
    verdict: str
    justification: str
    investigator: Caller
    reason: str = ""
    """Why it replaces an earlier attestation of the same criterion (required then)."""


@dataclass(frozen=True)
class Judgement:
    """One criterion's verdict in a form of several; without a justification of its own, the form's
    shared one stands for it."""

    criterion: str
    verdict: str
    justification: str = ""
    reason: str = ""
    """Why it replaces an earlier attestation of the same criterion (required then)."""


@dataclass(frozen=True)
class RecordAttestations:
    """An investigator's judgements on several criteria of one child from one form: each is its own
    attestation (one FHIR Observation, one audit row), all stored as one message or none."""

    patient_id: str
    judgements: tuple[Judgement, ...]
    investigator: Caller
    justification: str = ""
    """The justification of every judgement that gives none of its own."""


@dataclass(frozen=True)
class RecordConsentDecision:
    """A coordinator's or investigator's record that consent was refused or withdrawn."""

    patient_id: str
    decision: str
    recorder: Caller


@dataclass(frozen=True)
class EvaluatePatient:
    """Screen a child on ``as_of`` with everything stored for it, if anything is pending."""

    patient_pk: int
    as_of: date
    trigger: str = "data"


@dataclass(frozen=True)
class MarkEvaluationFailed:
    """Evaluating a child failed for good: leave it until new data arrives."""

    patient_pk: int
    error_kind: str


@dataclass(frozen=True)
class ScreenAsOf:
    """A screening for any date, from the stored facts, stored nowhere."""

    patient_id: str
    reader: Caller
    as_of: date


@dataclass(frozen=True)
class AcknowledgeAlert:
    alert_id: int
    coordinator: Caller


@dataclass(frozen=True)
class PlanDeliveries:
    """One delivery per active subscription of the alert's site; the due ones sent."""

    alert_pk: int


@dataclass(frozen=True)
class RetryDelivery:
    delivery_id: int
    coordinator: Caller


@dataclass(frozen=True)
class RescreenDue:
    """Re-screen the children whose next review date has come (and any missed while down)."""

    today: date


@dataclass(frozen=True)
class DrainBacklog:
    """Screen the children still pending, beyond a task's own, until none is left or ``seconds`` pass."""

    seconds: float
    done: frozenset[int] = frozenset()
    """The task's own children, screened (or handed on) already."""
    batch: int = 64


@dataclass(frozen=True)
class SweepStalledWork:
    """Re-send what was stored but never finished."""

    older_than: datetime


@dataclass(frozen=True)
class MovePatient:
    patient_id: str
    site: str
    actor: str


@dataclass(frozen=True)
class CreateToken:
    role: str
    sites: tuple[str, ...]
    name: str | None
    actor: str


@dataclass(frozen=True)
class RevokeToken:
    token_id: int
    actor: str


@dataclass(frozen=True)
class BindTokenSites:
    token_id: int
    sites: tuple[str, ...]
    actor: str


@dataclass(frozen=True)
class RegisterSender:
    """Register an HL7 v2 sending system (MSH-3, MSH-4) with the sites it may send for."""

    application: str
    facility: str
    sites: tuple[str, ...]
    actor: str
    addresses: tuple[str, ...] = ()
    """CIDR ranges it may send from (``--from``); none: any address MYOCIT_MLLP_ALLOW lets in."""
    certificates: tuple[str, ...] = ()
    """SHA-256 fingerprints of the TLS client certificates it may send with (``--certificate``)."""


@dataclass(frozen=True)
class RevokeSender:
    sender_id: int
    actor: str


@dataclass(frozen=True)
class MapGroup:
    """Give the people of a provider's group a role and sites (contract §14)."""

    group: str
    role: str
    sites: tuple[str, ...]
    actor: str


@dataclass(frozen=True)
class UnmapGroup:
    mapping_id: int
    actor: str


@dataclass(frozen=True)
class CreateSubscription:
    site: str
    channel: str
    target: str
    actor: str
    language: str | None = None
    """``fr`` or ``en``: the language of its emails and webhook ``text`` (contract §18); None: ``MYOCIT_LANGUAGE``."""


@dataclass(frozen=True)
class DeactivateSubscription:
    subscription_id: int
    actor: str


@dataclass(frozen=True)
class ImportResources:
    """Load a site's children already in care from files (contract §7); ``site``: the site of the
    Patients that name none, and the only site the load may write for (None: any, as an admin)."""

    paths: tuple
    site: str | None = None


@dataclass(frozen=True)
class ScreenKnownAt:
    """A screening for any date with only the facts received by ``known_at`` (contract §11)."""

    patient_id: str
    reader: Caller
    as_of: date
    known_at: datetime


@dataclass(frozen=True)
class ReplayAlert:
    """An alert with the stored screening that raised it and the facts that screening used."""

    alert_id: int
    reader: Caller


@dataclass(frozen=True)
class RecordOutcome:
    """What happened after screening (contract §8): approached, declined, enrolled, not-approached."""

    patient_id: str
    outcome: str
    reason: str
    recorder: Caller


@dataclass(frozen=True)
class ConfirmEligibility:
    """An investigator signs the child's eligibility as of ``as_of`` (contract §9), re-entering the
    token (``reauth``)."""

    patient_id: str
    as_of: date
    meaning: str | None
    reauth: str
    signer: Caller
    reauthenticated: Reauthenticated | None = None
    """Set when the hospital's provider re-authenticated the signer (contract §14); ``reauth`` unused."""
    language: str = "en"
    """The language the signer reads the screening in (contract §18): the signed object's reasons are
    written in it, and the confirmation records it."""


@dataclass(frozen=True)
class Reauthenticated:
    """The signer as the provider vouched for them on signing: issuer, ``sub``, name, ``auth_time``."""

    issuer: str
    subject: str
    name: str | None
    auth_time: datetime



@dataclass(frozen=True)
class ScreenShadowChunk:
    """Screen one chunk of a shadow run (its children under both versions), storing what it found."""

    chunk_pk: int


@dataclass(frozen=True)
class ShadowAmendment:
    """Screen every registered child under the active version and a candidate, storing nothing."""

    candidate: str
    as_of: date
    site: str | None = None
    actor: str = "cli"


@dataclass(frozen=True)
class ActivateProtocol:
    """Make a version the active one for every process, then re-screen everyone under it."""

    version: str
    actor: str


@dataclass(frozen=True)
class ReprocessMessages:
    """Derive the facts of stored messages again, after a mapping fix."""

    message_pks: tuple[int, ...]
    actor: str


@dataclass(frozen=True)
class BindIdentifierSystem:
    """Bind an identifier system (a hospital's record numbers) to sites (contract §13)."""

    system: str
    sites: tuple[str, ...]
    actor: str


@dataclass(frozen=True)
class UnbindIdentifierSystem:
    """Undo ``BindIdentifierSystem`` for ``sites`` (every site when empty)."""

    system: str
    sites: tuple[str, ...]
    actor: str


# --- FHIR outputs (contract §16) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReadResearchSubject:
    subject_id: str
    reader: Caller


@dataclass(frozen=True)
class SearchResearchSubjects:
    reader: Caller
    study: str | None = None
    statuses: tuple[str, ...] = ()
    last_updated: tuple[str, datetime] | None = None
    """``_lastUpdated``: a comparator (gt, ge, lt, le) and an instant, against when the status last changed."""
    count: int = 50
    offset: int = 0


@dataclass(frozen=True)
class CreateFhirSubscription:
    """A FHIR Subscription resource as posted (JSON), by an admin or a coordinator for its sites."""

    resource: dict
    creator: Caller


@dataclass(frozen=True)
class ReadFhirSubscription:
    subscription_id: str
    reader: Caller


@dataclass(frozen=True)
class DeleteFhirSubscription:
    subscription_id: str
    reader: Caller


@dataclass(frozen=True)
class ReadFhirEvents:
    subscription_id: str
    reader: Caller
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True)
class SendFhirNotifications:
    """Handshake (while ``requested``) or events in order (while ``active``) of one FHIR subscription."""

    subscription_pk: int


@dataclass(frozen=True)
class AddEhr:
    """Register an EHR that may call the CDS Hooks service for children of ``sites`` (contract §15)."""

    issuer: str
    jwks_url: str
    fhir_server: str | None
    sites: tuple[str, ...]
    actor: str


@dataclass(frozen=True)
class RemoveEhr:
    """Undo ``AddEhr``: that EHR's next calls are refused (401)."""

    ehr_id: int
    actor: str


@dataclass(frozen=True)
class CallCdsService:
    """A call of the CDS Hooks service (``patient-view``, or its feedback) as the EHR made it: the
    Authorization header's bearer JWT, the URLs the call may have been addressed to (its ``aud``), the
    JSON body."""

    token: str | None
    audiences: tuple[str, ...]
    body: object


# --- data protection (contract §17) ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordObjection:
    """A family objects: erase the child, leave a tombstone (contract §17)."""

    patient_id: str
    reason: str | None
    recorder: Caller


@dataclass(frozen=True)
class PurgeExpired:
    """Purge the children never enrolled whose data is older than the retention period."""

    actor: str
    retention_days: int
    dry_run: bool = False
    why: str = "retention"


@dataclass(frozen=True)
class ExportAudit:
    """The audit rows, filtered, streamed."""

    reader: Caller
    since: datetime | None = None
    until: datetime | None = None
    patient: str | None = None
    actor: str | None = None
