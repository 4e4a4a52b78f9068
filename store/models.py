"""The tables. Inbound messages are immutable; screenings are append-only; the patient row is the
unit of consistency for evaluation (its lock serialises evaluators of one patient)."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer, "sqlite")
MAX_ROW_ID = 2**63 - 1


def new_screening_id() -> str:
    """A child's screening id: random, so it says nothing of the child or of the order it came in."""
    return "s-" + secrets.token_hex(6)


def row_id_in_range(value: int) -> bool:
    """A numeric id a row could have; any other is answered "not found", never sent to SQL."""
    return 0 < value <= MAX_ROW_ID


class Base(DeclarativeBase):
    pass


class Message(Base):
    """Every inbound message, verbatim, as received. Never updated."""

    __tablename__ = "messages"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str | None] = mapped_column(String(120))
    control_id: Mapped[str | None] = mapped_column(String(120))
    fact_count: Mapped[int] = mapped_column(Integer, default=0)
    hl7_application: Mapped[str | None] = mapped_column(String(60))
    """HL7 v2: MSH-3 (first component), with MSH-4 the sending system a repeated MSH-10 is matched in."""
    hl7_facility: Mapped[str | None] = mapped_column(String(60))
    ack_code: Mapped[str | None] = mapped_column(String(2))
    """HL7 v2: the MSA-1 it was answered with, answered again to a repeat of its MSH-10 (contract §6)."""
    body_key: Mapped[str | None] = mapped_column(String(64))
    """The body's SHA-256, on the first message with that body only: the database itself refuses a
    second copy, however many arrive at the same instant."""
    control_key: Mapped[str | None] = mapped_column(String(400))
    """HL7 v2: the sender, MSH-3, MSH-4 and MSH-10 (``store.intake.control_key``): one message each."""

    __table_args__ = (Index("ix_messages_hl7_control", "hl7_application", "hl7_facility", "control_id"),
                      Index("uq_messages_body_key", "body_key", unique=True),
                      Index("uq_messages_control_key", "control_key", unique=True))


class Patient(Base):
    __tablename__ = "patients"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    pending_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluated_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str | None] = mapped_column(String(16))
    as_of: Mapped[date | None] = mapped_column(Date)
    next_review_at: Mapped[date | None] = mapped_column(Date, index=True)
    alerts_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_seq: Mapped[int | None] = mapped_column(BigInteger)
    """The ``pending_seq`` whose evaluation failed for good: not retried until new data moves it on."""
    failure: Mapped[str | None] = mapped_column(String(80))
    """The error's kind (its class name), never its message: that may quote patient data."""
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    screened_version: Mapped[str | None] = mapped_column(String(64))
    """The protocol version of the latest stored screening (what an evaluation compares, under the lock)."""
    screening_id: Mapped[str | None] = mapped_column(String(24))
    """myocit's own name for the child (random, never the EHR's): the audit, the tombstone and the log
    name it by this (contract §17)."""

    __table_args__ = (Index("ix_patients_dirty", "pending_seq", "evaluated_seq"),
                      UniqueConstraint("screening_id", name="uq_patients_screening_id"))


class PatientIdentifier(Base):
    __tablename__ = "patient_identifiers"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    system: Mapped[str | None] = mapped_column(String(255))
    """None for an identifier without a system: it names nobody across sites, so it is not unique."""
    value: Mapped[str] = mapped_column(String(255), index=True)
    __table_args__ = (UniqueConstraint("system", "value", name="uq_identifier"),)


class Fact(Base):
    """A fact derived from a message. ``subject_key`` keeps how the message named its patient, so
    facts that arrive before their Patient are linked when it does."""

    __tablename__ = "facts"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.pk"), index=True)
    patient_pk: Mapped[int | None] = mapped_column(ForeignKey("patients.pk"), index=True)
    subject_key: Mapped[str] = mapped_column(String(300), index=True)
    scope: Mapped[str | None] = mapped_column(String(500))
    """For a fact kept for a patient not registered yet: the sites its sender may act for
    (``,a,b,``), so that it is linked only to a child of one of them; None: any site (an admin)."""
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(300))
    revision: Mapped[int] = mapped_column(BigInteger)
    """Storage order (the message's pk, then the fact's place in it): later versions replace earlier."""
    effective: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON)


class ScreeningRow(Base):
    """Append-only history of screening results, with the protocol version and the facts used."""

    __tablename__ = "screenings"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    protocol_version: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict] = mapped_column(JSON)
    fact_pks: Mapped[list] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(32), default="data")
    verdicts: Mapped[str | None] = mapped_column(String(64))
    """The 34 verdicts in contract §1 order, one letter each (``store.screening.compact``): what the
    screening log and funnel read, without decoding every result."""
    eligible_from: Mapped[date | None] = mapped_column(Date)
    eligible_until: Mapped[date | None] = mapped_column(Date)
    reasons: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """Each criterion's reason as a message (contract §18), written in any language; null before 0017."""
    """The window's last day (contract §1.2); null for screenings stored before it was computed."""


class Alert(Base):
    __tablename__ = "alerts"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    screening_pk: Mapped[int] = mapped_column(ForeignKey("screenings.pk"), unique=True)
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    """None for a new candidate: the child's first screening, eligible or waiting (contract §5)."""
    to_status: Mapped[str] = mapped_column(String(16))
    changed: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """The child had a valid signed confirmation (contract §9) that this screening overturns."""


class Outbox(Base):
    """Events written in the same transaction as what caused them; dispatched after commit."""

    __tablename__ = "outbox"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    ref: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    """The sites the holder acts for; empty only for an admin (every site)."""
    name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Hl7Sender(Base):
    """A system that sends HL7 v2 over MLLP, named by MSH-3 and MSH-4 (first components), with the sites
    it may send for: MLLP carries no token, so this row is its authority (a lab's, contract §6, §13)."""

    __tablename__ = "hl7_senders"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application: Mapped[str] = mapped_column(String(60))
    facility: Mapped[str] = mapped_column(String(60))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    addresses: Mapped[list | None] = mapped_column(JSON)
    """CIDR ranges it may send from (``--from``); empty or None: any address MYOCIT_MLLP_ALLOW lets in."""
    certificates: Mapped[list | None] = mapped_column(JSON)
    """SHA-256 fingerprints (lower-case hex) of the TLS client certificates it may send with
    (``--certificate``); empty or None: any."""

    __table_args__ = (Index("ix_hl7_senders_name", "application", "facility"),)


class SiteIdentifierSystem(Base):
    """An identifier system (a hospital's record numbers) bound to a site: a Patient of any other site
    carrying an identifier of that system is refused (contract §13)."""

    __tablename__ = "site_identifier_systems"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(255), index=True)
    site: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("system", "site", name="uq_site_identifier_system"),)


class AccessMapping(Base):
    """A group of the hospital's OpenID provider mapped to a role and sites (contract §14,
    ``myocit access map``). Unmapping keeps the row with ``removed_at``: the audit can still say what
    a past session was granted by."""

    __tablename__ = "access_mappings"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_name: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(16))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UiSession(Base):
    """A signed-in browser. The cookie carries a random id; only its hash is kept. Signing out ends
    the row, so a copied cookie stops working at once."""

    __tablename__ = "ui_sessions"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_pk: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.pk"), index=True)
    """The token pasted to sign in; None for a person signed in through the provider (contract §14)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issuer: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    person_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(16))
    sites: Mapped[list | None] = mapped_column(JSON)
    mapping_pks: Mapped[list | None] = mapped_column(JSON)
    """The group mappings that granted the role and sites: removing one ends the session."""
    id_token: Mapped[str | None] = mapped_column(Text)
    """Kept for the provider's sign-out (``id_token_hint``)."""


class OidcLogin(Base):
    """A sign-in under way at the provider: its ``state`` (hashed), the browser it is bound to
    (a hash of the random value in that browser's cookie), the ``nonce`` and the PKCE verifier.
    Used once, within 10 minutes (contract §14)."""

    __tablename__ = "oidc_logins"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purpose: Mapped[str | None] = mapped_column(String(16))
    """None: signing in; ``sign``: re-authenticating to sign a confirmation (contract §9, §14)."""
    session_hash: Mapped[str | None] = mapped_column(String(64))
    """For a signature: the hash of the signer's page session, which must be the one coming back."""
    signing: Mapped[dict | None] = mapped_column(JSON)
    """For a signature: the patient, the screening day and the meaning being signed."""


class AuditEntry(Base):
    """Who did or saw what. Never changed or deleted (a trigger refuses both), so it holds nothing that
    identifies a child: a child is named by its screening id, never by the EHR's id (contract §17)."""

    __tablename__ = "audit_log"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(16))
    token_pk: Mapped[int | None] = mapped_column(BigInteger)
    """The token the actor used, if any (the export names it: "token 7 (holder)")."""
    screening_id: Mapped[str | None] = mapped_column(String(24), index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))


# --- data protection (contract §17) ------------------------------------------------------------------


class ErasedChild(Base):
    """What stays of a child erased on objection (``reason`` "objection": a tombstone) or purged at the
    end of retention ("retention"): its screening log row, de-identified. Never a name, birth date,
    identifier or free text."""

    __tablename__ = "erased_children"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    screening_id: Mapped[str] = mapped_column(String(24), unique=True)
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(120))
    purge_pk: Mapped[int | None] = mapped_column(ForeignKey("purges.pk"), index=True)
    first_screened_month: Mapped[str | None] = mapped_column(String(7))
    last_status: Mapped[str | None] = mapped_column(String(16))
    failing: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))


class TombstoneKey(Base):
    """A keyed hash of one name of an objected child, under a chain of keys (``domain.privacy``)."""

    __tablename__ = "tombstone_keys"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    erased_pk: Mapped[int] = mapped_column(ForeignKey("erased_children.pk"), index=True)
    chain: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_tombstone_keys_digest", "digest", "chain"),)


class Purge(Base):
    """One retention purge: when, why, how many children; never which (contract §17)."""

    __tablename__ = "purges"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(200))
    cutoff: Mapped[date] = mapped_column(Date)
    children: Mapped[int] = mapped_column(Integer, default=0)


class ErasureUnderWay(Base):
    """The children being erased by the open transaction: the one case where the confirmations'
    trigger lets a signed confirmation go. Empty outside an erasure."""

    __tablename__ = "erasures_under_way"
    patient_pk: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Subscription(Base):
    """Where one site's alerts go. The webhook secret must be kept readable (it signs every body), so
    it is shown once at creation and never listed again."""

    __tablename__ = "subscriptions"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """The language of its emails and webhook ``text`` (contract §18); null: ``MYOCIT_LANGUAGE``."""


class Delivery(Base):
    """One alert sent to one subscription. The unique pair is what makes planning idempotent;
    ``enqueued_at`` keeps the sweeper from queueing the same retry on every pass."""

    __tablename__ = "deliveries"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alerts.pk"), index=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.pk"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("alert_pk", "subscription_pk", name="uq_delivery"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


# --- the screening log and the investigator's confirmation (contract §8, §9) -----------------------


class ScreeningOutcome(Base):
    """What happened after screening (approached, declined, enrolled, not approached). Appended;
    the latest of a child stands. ``reason`` is free text: never in the screening log."""

    __tablename__ = "screening_outcomes"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_on: Mapped[date] = mapped_column(Date)
    """The screening day it was recorded on (the log's ``outcome_date``)."""


class Confirmation(Base):
    """An investigator's signed confirmation of eligibility (21 CFR Part 11 §11.50/§11.70). Never
    updated or deleted: the code has no path that does, and a database trigger refuses both."""

    __tablename__ = "confirmations"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    screening_pk: Mapped[int] = mapped_column(ForeignKey("screenings.pk"))
    token_pk: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.pk"))
    """The signer's token, re-entered; None when the provider re-authenticated the signer."""
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_issuer: Mapped[str | None] = mapped_column(String(255))
    signer_subject: Mapped[str | None] = mapped_column(String(255))
    auth_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the provider re-authenticated the signer (``auth_time``), after the signing began."""
    role: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    meaning: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)
    protocol_version: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    signed_keys: Mapped[str | None] = mapped_column(String(200))
    """The §3 keys the hash covers, comma-separated; null for confirmations signed before the window
    of opportunity (contract §1.2), which covered ``domain.confirmation.KEYS_BEFORE_WINDOW``."""
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """The language of the §3 object signed (contract §18): its reasons were written in it, and its hash
    is checked in it. Null: English, as every confirmation signed before."""


class LogRow(Base):
    """A child's line of the screening log (contract §8), kept up to date in the transaction that stores
    its screening, outcome or confirmation (``store.log_rows``), so the log and funnel read one row per
    child instead of every screening. Deleted with the child (``store.erasure``)."""

    __tablename__ = "log_rows"
    patient_pk: Mapped[int] = mapped_column(BigId, ForeignKey("patients.pk"), primary_key=True, autoincrement=False)
    first_screened: Mapped[date | None] = mapped_column(Date, index=True)
    """The screening day of the child's first stored screening; null while only an outcome is known."""
    last_screening_pk: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(16))
    status_since: Mapped[date | None] = mapped_column(Date)
    """The screening day from which the latest status has held without a break."""
    failing: Mapped[str | None] = mapped_column(Text)
    missing: Mapped[str | None] = mapped_column(Text)
    review: Mapped[str | None] = mapped_column(Text)
    """The latest screening's criterion ids of verdict fail, unknown and review, joined by ``;``."""
    eligible_from: Mapped[date | None] = mapped_column(Date)
    eligible_until: Mapped[date | None] = mapped_column(Date)
    protocol_version: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_date: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[str | None] = mapped_column(String(40))
    """When the latest confirmation still standing (contract §9 ``valid``) was signed, ISO in UTC as the
    log shows it; null when none stands."""


class ProtocolActivation(Base):
    """The protocol version made active for every process (contract §10): the latest row governs. Its
    data files are kept with it, so a worker on another machine loads exactly what was activated."""

    __tablename__ = "protocol_activations"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    """The version's folder name (``myocit-2027-02``)."""
    version: Mapped[str] = mapped_column(String(32))
    """The version its data files name, stamped on every screening made under it."""
    files: Mapped[dict] = mapped_column(JSON)
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_by: Mapped[str] = mapped_column(String(120))
    patients: Mapped[int] = mapped_column(Integer, default=0)
    """Registered patients marked for re-screening under it."""


class ShadowReport(Base):
    """The last shadow runs of a candidate version (contract §10): who it would move, never applied."""

    __tablename__ = "shadow_reports"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    report: Mapped[dict] = mapped_column(JSON)


# --- FHIR outputs: topic-based subscriptions (contract §16) -----------------------------------------


class FhirSubscription(Base):
    """A FHIR Subscription (R5 Backport IG, R4) to the eligibility-changed topic: its ``subscriptions``
    row (channel ``fhir``) is what deliveries name, this row what FHIR says of it. ``last_event_number``
    is the subscription's event counter, raised under this row's lock in the transaction that stores
    the alert, so numbers never skip and never repeat."""

    __tablename__ = "fhir_subscriptions"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.pk"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    """requested, active, error or off."""
    sites: Mapped[list | None] = mapped_column(JSON)
    """The sites it reaches (its creator's, narrowed by a ``site`` filter); None: every site (an admin's)."""
    statuses: Mapped[list | None] = mapped_column(JSON)
    """The ``status`` filter: the §1 statuses it is told of; None: every one."""
    filters: Mapped[list] = mapped_column(JSON, default=list)
    """The filter criteria as given (``backport-filter-criteria``), answered back on a read."""
    content: Mapped[str] = mapped_column(String(16))
    """id-only or full-resource."""
    headers: Mapped[list] = mapped_column(JSON, default=list)
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    last_event_number: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The last notification (handshake, event or heartbeat) the endpoint accepted."""
    error: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FhirEvent(Base):
    """One numbered event of a FHIR subscription: an alert, as the ResearchSubject stood when it was
    raised (no name, birth date or record number). Kept for ``$events``."""

    __tablename__ = "fhir_events"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.pk"))
    event_number: Mapped[int] = mapped_column(BigInteger)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alerts.pk"), index=True)
    focus: Mapped[str] = mapped_column(String(100))
    """``ResearchSubject/{id}``."""
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resource: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("subscription_pk", "event_number", name="uq_fhir_event_number"),
                      UniqueConstraint("subscription_pk", "alert_pk", name="uq_fhir_event_alert"))


class ShadowRun(Base):
    """A shadow run split into chunks for the workers (contract §10): what every chunk screens with
    (both versions' files, the day, the site), kept while the command that started it gathers them."""

    __tablename__ = "shadow_runs"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    as_of: Mapped[date] = mapped_column(Date)
    active_name: Mapped[str] = mapped_column(String(200))
    active_files: Mapped[dict] = mapped_column(JSON)
    candidate_name: Mapped[str] = mapped_column(String(200))
    candidate_files: Mapped[dict] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ShadowChunk(Base):
    """One chunk of a shadow run: the registered children with pk from ``first_pk`` to ``last_pk`` (of
    the run's site). Done once ``done_at`` is set, with what it found in ``result``; a chunk sent or
    taken long ago and not done is sent again by the gatherer (its worker was lost)."""

    __tablename__ = "shadow_chunks"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_pk: Mapped[int] = mapped_column(BigId, ForeignKey("shadow_runs.pk", ondelete="CASCADE"), index=True)
    first_pk: Mapped[int] = mapped_column(BigInteger)
    last_pk: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    screened: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)


# --- inside the EHR: CDS Hooks (contract §15) ---------------------------------------------------------


class EhrRegistration(Base):
    """An EHR that may call the CDS Hooks service (``myocit ehr add``): the issuer of its JWTs, where its
    keys are, the FHIR base it may name, and the sites whose children it may see cards for. Removing
    it keeps the row with ``removed_at`` (the audit and the cards shown still name it)."""

    __tablename__ = "ehr_registrations"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(255), index=True)
    jwks_url: Mapped[str] = mapped_column(String(1000))
    fhir_server: Mapped[str | None] = mapped_column(String(1000))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CdsJti(Base):
    """A JWT id an EHR used (``jti``): never accepted twice from one issuer. Kept until its token's
    ``exp`` and the clock skew have passed (the sweep deletes it then: the token is refused anyway)."""

    __tablename__ = "cds_jtis"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_cds_jtis_issuer_jti"),)


class CdsCard(Base):
    """A card shown in an EHR: which child's screening it spoke of, and its ``uuid`` (what the EHR's
    feedback names)."""

    __tablename__ = "cds_cards"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    ehr_pk: Mapped[int] = mapped_column(ForeignKey("ehr_registrations.pk"))
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    screening_pk: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16))
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CdsFeedback(Base):
    """What the clinician did with a card (CDS Hooks feedback): ``accepted`` or ``overridden`` with the
    reason's code, at the time the EHR says it happened. Appended."""

    __tablename__ = "cds_feedback"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    card_pk: Mapped[int] = mapped_column(ForeignKey("cds_cards.pk"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    outcome_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
