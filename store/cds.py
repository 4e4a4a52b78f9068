"""The CDS Hooks service's records (contract §15): registered EHRs, the JWT ids each used (a replay
store shared by every API process), the cards shown and the clinicians' feedback, with the counts the
screening log page shows and the entries of a patient page's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import CdsCard, CdsFeedback, CdsJti, EhrRegistration, Patient, ScreeningRow
from store.tokens import TokenError, check_sites

URL_LENGTH = 1000
ISSUER_LENGTH = 255


def check_url(what: str, value: str) -> str:
    """An http(s) URL, as given (trailing slash removed); TokenError otherwise."""
    clean = (value or "").strip().rstrip("/")
    parts = urlsplit(clean)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(clean) > URL_LENGTH:
        raise TokenError(f"--{what}: an http or https URL of at most {URL_LENGTH} characters")
    return clean


def add_ehr(session: Session, issuer: str, jwks_url: str, fhir_server: str | None, sites, now: datetime
            ) -> EhrRegistration:
    """TokenError when the issuer, a URL or the sites (at least one) do not fit."""
    clean = (issuer or "").strip()
    if not clean or len(clean) > ISSUER_LENGTH:
        raise TokenError(f"--issuer: 1 to {ISSUER_LENGTH} characters, the `iss` of the EHR's JWTs")
    row = EhrRegistration(issuer=clean, jwks_url=check_url("jwks-url", jwks_url),
                          fhir_server=check_url("fhir-server", fhir_server) if fhir_server else None,
                          sites=check_sites("coordinator", sites), created_at=now)
    session.add(row)
    session.flush()
    return row


def active_ehr(session: Session, issuer: str) -> EhrRegistration | None:
    return session.scalar(select(EhrRegistration).where(EhrRegistration.issuer == issuer,
                                                        EhrRegistration.removed_at.is_(None)).limit(1))


def ehrs(session: Session) -> list[EhrRegistration]:
    return list(session.scalars(select(EhrRegistration).order_by(EhrRegistration.pk)))


def remove_ehr(session: Session, pk: int, now: datetime) -> EhrRegistration | None:
    """Removing twice keeps the first date; None when there is no such EHR."""
    row = session.get(EhrRegistration, pk)
    if row is not None and row.removed_at is None:
        row.removed_at = now
    return row


def claim_jti(session: Session, issuer: str, jti: str, expires_at: datetime) -> bool:
    """Keep ``jti`` as used by ``issuer``; False when it was used before (a replay), whichever API
    process saw it first (the unique key decides, waiting for a racing transaction)."""
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(dialect.insert(CdsJti).values(issuer=issuer, jti=jti, expires_at=expires_at)
                            .on_conflict_do_nothing().returning(CdsJti.pk)).first()
    return inserted is not None


def sweep_jtis(session: Session, before: datetime) -> int:
    """Forget the JWT ids of tokens that expired before ``before`` (their exp plus the skew): such a
    token is refused for its time anyway."""
    return session.execute(delete(CdsJti).where(CdsJti.expires_at < before)).rowcount or 0


@dataclass(frozen=True)
class ChildFound:
    pk: int
    id: str
    screening_pk: int | None
    result: dict | None
    screening_id: str | None = None
    """The child's screening id (contract §17), what the audit names it by."""


def child_with_latest_screening(session: Session, patient_id: str, patient_pk: int) -> ChildFound:
    """The child (its Patient id and row, as the lookup found them) with its latest stored screening."""
    stored = session.execute(select(ScreeningRow.pk, ScreeningRow.result).where(ScreeningRow.patient_pk == patient_pk)
                             .order_by(ScreeningRow.pk.desc()).limit(1)).first()
    screening_id = session.scalar(select(Patient.screening_id).where(Patient.pk == patient_pk))
    return ChildFound(patient_pk, patient_id, stored.pk if stored else None, stored.result if stored else None,
                      screening_id)


def add_card(session: Session, uuid: str, ehr_pk: int, child: ChildFound, status: str, now: datetime) -> None:
    session.add(CdsCard(uuid=uuid, ehr_pk=ehr_pk, patient_pk=child.pk, screening_pk=child.screening_pk,
                        status=status, shown_at=now))


def card_of(session: Session, uuid: str, ehr_pk: int) -> tuple[CdsCard, str] | None:
    """The card ``uuid`` shown to that EHR, and its child's screening id (contract §17)."""
    found = session.execute(select(CdsCard, Patient.screening_id).join(Patient, Patient.pk == CdsCard.patient_pk)
                            .where(CdsCard.uuid == uuid, CdsCard.ehr_pk == ehr_pk)).first()
    return (found[0], found[1]) if found else None


def add_feedback(session: Session, card: CdsCard, outcome: str, reason: str | None, outcome_at: datetime,
                 now: datetime) -> None:
    session.add(CdsFeedback(card_pk=card.pk, outcome=outcome, reason=reason, outcome_at=outcome_at,
                            received_at=now))


def feedback_of(session: Session, patient_pk: int) -> list[tuple[datetime, str, str | None]]:
    """(outcome_at, outcome, reason code) of the feedback on a child's cards, oldest first."""
    return [tuple(r) for r in session.execute(
        select(CdsFeedback.outcome_at, CdsFeedback.outcome, CdsFeedback.reason)
        .join(CdsCard, CdsCard.pk == CdsFeedback.card_pk).where(CdsCard.patient_pk == patient_pk)
        .order_by(CdsFeedback.outcome_at, CdsFeedback.pk))]


def card_counts(session: Session, sites: frozenset[str] | None, site: str | None = None) -> dict:
    """Cards shown, and feedback by outcome and by override reason, for children of ``sites`` (None:
    every site), narrowed to ``site`` when given."""
    def scoped(query):
        query = query.join(Patient, Patient.pk == CdsCard.patient_pk)
        if sites is not None:
            query = query.where(Patient.site.in_(sorted(sites)))
        return query.where(Patient.site == site) if site else query

    shown = session.scalar(scoped(select(func.count(CdsCard.pk)))) or 0
    counted = (select(CdsFeedback.outcome, CdsFeedback.reason, func.count(CdsFeedback.pk)).select_from(CdsFeedback)
               .join(CdsCard, CdsCard.pk == CdsFeedback.card_pk))
    outcomes = session.execute(scoped(counted).group_by(CdsFeedback.outcome, CdsFeedback.reason)).all()
    accepted = sum(n for outcome, _, n in outcomes if outcome == "accepted")
    reasons: dict[str, int] = {}
    for outcome, reason, n in outcomes:
        if outcome == "overridden":
            reasons[reason or "none given"] = reasons.get(reason or "none given", 0) + n
    return {"shown": shown, "accepted": accepted, "dismissed": sum(reasons.values()), "reasons": reasons}
