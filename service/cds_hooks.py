"""Inside the EHR: the CDS Hooks ``patient-view`` service and its feedback (contract §15).

A call is answered in three steps. *Who is calling*: the bearer JWT's ``iss`` must be a registered
EHR (``myocit ehr add``); its signature is checked with PyJWT against that EHR's JWKS by the header's
``kid`` (keys cached per issuer, fetched again on an unknown ``kid``), only RS256, RS384, ES256 and
ES384; ``aud`` must be the URL called, ``exp`` in the future and ``iat`` not in it (60 s of skew),
and its ``jti`` never seen from that issuer (a table with a unique key: every API process shares
it). Any failure: ``NotAuthenticated`` (401), audited. *Which child*: the prefetched Patient (or, with
none, the one read from the EHR's registered FHIR base with its access token, 3 s at most) names the
child by its identifiers and id, matched by ``domain.identity.reader_match`` on what
``store.intake.lookup`` finds, within the EHR's sites. *What card*: ``domain.cds_cards`` from the
child's latest stored screening. Nothing is written but the JWT id, the card shown and the audit."""

from __future__ import annotations

import logging
import math
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt

from domain.cds_cards import OVERRIDE_REASONS, OVERRIDE_SYSTEM, SOURCE_LABEL, card_words
from domain.identity import Authority, Subject, reader_match
from ingest.items import Item
from store import audit
from store import cds as store
from store.intake import lookup
from store.uow import UnitOfWork
from service.commands import CallCdsService
from service.errors import Invalid, NotAuthenticated
from service.ports import Clock, JsonOverHttp, ProtocolSource

log = logging.getLogger("myocit.cds")

SERVICE_ID = "myocit-eligibility"
ALGORITHMS = ("RS256", "RS384", "ES256", "ES384")
SKEW_SECONDS = 60
LONGEST_LIFE_SECONDS = 86_400
"""A token expiring later than this is refused: its ``jti`` would have to be kept as long (CDS Hooks
asks for lifetimes of minutes)."""
FHIR_TIMEOUT_SECONDS = 3.0
JWKS_TIMEOUT_SECONDS = 5.0
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
MAX_NAMES = 20
"""At most this many identifiers of a prefetched Patient are looked up."""
REFUSED = "the CDS Hooks call is not authorised"

DISCOVERY = {"services": [{
    "hook": "patient-view", "id": SERVICE_ID, "title": "MYOCIT trial screening",
    "description": "Tells the treating clinician when a child may be a candidate for the MYOCIT trial "
                   "(baricitinib in new-onset juvenile dermatomyositis), from myocit's latest screening.",
    "prefetch": {"patient": "Patient/{{context.patientId}}"}}]}


class Refusal(Exception):
    """Why a call is refused, for the audit (never for the caller: they get 401)."""


@dataclass(frozen=True)
class Ehr:
    pk: int
    issuer: str
    jwks_url: str
    fhir_server: str | None
    sites: frozenset[str]

    @property
    def actor(self) -> str:
        return f"ehr {self.pk} ({self.issuer})"


class EhrKeys:
    """Each EHR's signing keys by ``kid``, kept between calls; fetched again from its JWKS URL when a
    token names a ``kid`` not among them (the EHR rotated its keys). One EHR's fetch waits for no other
    EHR's (a lock per EHR), and gives up after ``JWKS_TIMEOUT_SECONDS``."""

    def __init__(self, http: JsonOverHttp) -> None:
        self.http = http
        self._keys: dict[tuple[str, str], dict[str, jwt.PyJWK]] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, where: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(where, threading.Lock())

    def holds(self, ehr: Ehr, kid: object) -> bool:
        """Whether the key ``kid`` of ``ehr`` is known without fetching."""
        return kid in self._keys.get((ehr.issuer, ehr.jwks_url), {})

    def key(self, ehr: Ehr, kid: str) -> jwt.PyJWK:
        where = (ehr.issuer, ehr.jwks_url)
        held = self._keys.get(where, {})
        if kid in held:
            return held[kid]
        with self._lock(where):
            held = self._keys.get(where, {})
            if kid not in held:  # another call may have fetched them meanwhile
                try:
                    document = self.http.get_json(ehr.jwks_url, None, JWKS_TIMEOUT_SECONDS)
                    held = {k.key_id: k for k in jwt.PyJWKSet.from_dict(document).keys if k.key_id}
                except Exception as exc:  # noqa: BLE001 - unreachable or unreadable keys refuse the call
                    raise Refusal(f"jwks-unavailable {type(exc).__name__}") from None
                self._keys[where] = held
        if kid not in held:
            raise Refusal("unknown-kid")
        return held[kid]


@dataclass
class CdsHooks:
    """What the service needs beside the database: the EHRs' keys, the HTTP client for their FHIR
    servers, the clock, the protocol (criterion names) and the base URL of the patient pages."""

    keys: EhrKeys
    http: JsonOverHttp
    clock: Clock
    protocols: ProtocolSource
    base_url: str


# --- who is calling ----------------------------------------------------------------------------------

def _unverified(token: str) -> tuple[dict, dict]:
    try:
        return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refusal("unreadable-jwt") from None


def _registered(uow: UnitOfWork, issuer: object) -> Ehr:
    """Inside ``with uow``: the active EHR registered with this issuer."""
    if not isinstance(issuer, str) or not issuer:
        raise Refusal("no-iss")
    row = store.active_ehr(uow.session, issuer)
    if row is None:
        raise Refusal("unknown-iss")
    return Ehr(row.pk, row.issuer, row.jwks_url, row.fhir_server, frozenset(row.sites or ()))


def _seconds(value: object) -> bool:
    """A NumericDate: a finite number of seconds (never a boolean, a string, NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def verified_claims(token: str, ehr: Ehr, keys: EhrKeys, audiences: tuple[str, ...], now: datetime,
                    header: dict | None = None) -> dict:
    """The JWT's claims once its algorithm, signature, ``iss``, ``aud``, ``exp``, ``iat`` and ``jti``
    hold (the replay check is the caller's: it needs the database); ``Refusal`` otherwise. ``header``:
    the token's header, when already read."""
    header = header if header is not None else _unverified(token)[0]
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        raise Refusal("algorithm")
    if not isinstance(kid, str) or not kid:
        raise Refusal("no-kid")
    key = keys.key(ehr, kid)
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=list(audiences), issuer=ehr.issuer,
                            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidAudienceError:
        raise Refusal("aud") from None
    except jwt.PyJWTError as exc:
        raise Refusal(f"jwt {type(exc).__name__}") from None
    instant = now.timestamp()
    if not _seconds(claims["exp"]) or claims["exp"] + SKEW_SECONDS < instant:
        raise Refusal("expired")
    if claims["exp"] > instant + LONGEST_LIFE_SECONDS:
        raise Refusal("expires-too-late")
    if not _seconds(claims["iat"]) or claims["iat"] - SKEW_SECONDS > instant:
        raise Refusal("issued-in-future")
    if not isinstance(claims["jti"], str) or not claims["jti"] or len(claims["jti"]) > 255:
        raise Refusal("jti")
    return claims


def _refused(uow: UnitOfWork, clock: Clock, actor: str, action: str, why: str) -> NotAuthenticated:
    """Inside ``with uow``: the refusal audited (nothing else of the call kept)."""
    uow.session.rollback()
    audit.record(uow.session, actor, f"{action}-refused", why, clock.now())
    uow.commit()
    log.info("CDS Hooks call refused: %s", why)
    return NotAuthenticated(REFUSED)


def authenticated(cmd: CallCdsService, uow: UnitOfWork, hooks: CdsHooks, action: str) -> tuple[Ehr, dict]:
    """Inside ``with uow``: the registered EHR that signed ``cmd.token`` and the token's claims, its
    ``jti`` claimed in this transaction; ``NotAuthenticated`` (audited, committed) otherwise. When the
    EHR's keys must be fetched, the transaction is ended first: nothing waits on the EHR holding it."""
    actor = "anonymous"
    try:
        if not cmd.token:
            raise Refusal("no-bearer")
        header, unverified = _unverified(cmd.token)
        ehr = _registered(uow, unverified.get("iss"))
        actor = ehr.actor
        if not hooks.keys.holds(ehr, header.get("kid")):
            uow.session.rollback()
        claims = verified_claims(cmd.token, ehr, hooks.keys, cmd.audiences, hooks.clock.now(), header)
        if not store.claim_jti(uow.session, ehr.issuer, claims["jti"], datetime.fromtimestamp(claims["exp"], UTC)):
            raise Refusal("replayed-jti")
        return ehr, claims
    except Refusal as refusal:
        raise _refused(uow, hooks.clock, actor, action, str(refusal)) from None


def sweep_jtis(session, now: datetime) -> int:
    """Forget JWT ids whose tokens expired (exp plus the skew) before ``now``."""
    return store.sweep_jtis(session, now - timedelta(seconds=SKEW_SECONDS))


# --- which child ---------------------------------------------------------------------------------------

def _request(body: object) -> tuple[str, dict]:
    """The patient-view request's ``context.patientId`` and the request; ``Invalid`` (400) otherwise."""
    if not isinstance(body, dict) or body.get("hook") != "patient-view":
        raise Invalid("a CDS Hooks request for the hook patient-view is expected")
    if not isinstance(body.get("hookInstance"), str):
        raise Invalid("a CDS Hooks request carries a hookInstance")
    context = body.get("context")
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(patient_id, str) or not patient_id:
        raise Invalid("a patient-view request carries context.patientId")
    return patient_id, body


def _ehr_read(ehr: Ehr, patient_id: str, body: dict) -> tuple[str, str | None] | None:
    """Where to read the Patient without a prefetch, and with which access token: only when the
    request names the FHIR base registered for that EHR (myocit calls no other address a request
    names) and the id is a FHIR id; None otherwise."""
    server = body.get("fhirServer")
    if not ehr.fhir_server or not isinstance(server, str) or server.rstrip("/") != ehr.fhir_server:
        return None
    if not FHIR_ID.fullmatch(patient_id):
        return None
    authorization = body.get("fhirAuthorization")
    token = authorization.get("access_token") if isinstance(authorization, dict) else None
    return f"{ehr.fhir_server}/Patient/{quote(patient_id, safe='')}", token if isinstance(token, str) else None


def _read_from_ehr(read: tuple[str, str | None], http: JsonOverHttp) -> object:
    """The Patient from the EHR's FHIR server; None when it cannot be read in 3 s."""
    try:
        return http.get_json(read[0], read[1], FHIR_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a slow or failing EHR gives no card, never an error
        log.info("the EHR's FHIR server did not give the Patient: %s", type(exc).__name__)
        return None


def _prefetched(body: dict) -> object:
    prefetch = body.get("prefetch")
    return prefetch.get("patient") if isinstance(prefetch, dict) else None


def _a_patient(found: object) -> dict | None:
    return found if isinstance(found, dict) and found.get("resourceType") == "Patient" else None


def names_of(patient: dict) -> tuple[Subject, ...]:
    """How the EHR's Patient names the child: each identifier (system and value: across sites; a
    value alone: within the EHR's sites) and its id (within the EHR's sites, as a value without a
    system: the EHR's ids are its own)."""
    names: list[Subject] = []
    identifiers = patient.get("identifier")
    for identifier in identifiers[:MAX_NAMES] if isinstance(identifiers, list) else ():
        if not isinstance(identifier, dict):
            continue
        value, system = identifier.get("value"), identifier.get("system")
        if isinstance(value, str) and 0 < len(value) <= 200:
            names.append(Subject("ident", value, system if isinstance(system, str) and system else None))
    if isinstance(patient.get("id"), str) and FHIR_ID.fullmatch(patient["id"]):
        names.append(Subject("ident", patient["id"]))
    return tuple(names)


# --- the card ------------------------------------------------------------------------------------------

def _card(hooks: CdsHooks, card_uuid: str, words, patient_id: str) -> dict:
    page = f"{hooks.base_url.rstrip('/')}/ui/patients/{quote(patient_id, safe='')}"
    return {"uuid": card_uuid, "summary": words.summary, "indicator": words.indicator, "detail": words.detail,
            "source": {"label": SOURCE_LABEL},
            "links": [{"label": "Open the MYOCIT screening in myocit", "url": page, "type": "absolute",
                       "autoLaunchable": False}],
            "overrideReasons": [{"system": OVERRIDE_SYSTEM, "code": code, "display": display}
                                for code, display in OVERRIDE_REASONS]}


def _cards_for(uow: UnitOfWork, hooks: CdsHooks, ehr: Ehr, names: tuple[Subject, ...],
               criterion_name) -> tuple[list[dict], str, str | None]:
    """Inside ``with uow``: the cards for the child ``names`` find, what the audit says of them, and the
    child's screening id (None when no child was found)."""
    if not names:
        return [], "no patient", None
    known, pks = lookup(uow.session.connection(), [Item(names)], lock=False)
    found = reader_match(names, known, Authority(ehr.sites))
    if found.patient is None:
        return [], "not found" if found.refusal is None else f"not matched ({found.refusal.value})", None
    child = store.child_with_latest_screening(uow.session, found.patient, pks[found.patient])
    if child.result is None:
        return [], "not screened yet", child.screening_id
    words = card_words(child.result, criterion_name)
    if words is None:
        return [], f"Screening/{child.screening_pk} no card", child.screening_id
    card_uuid = str(uuid.uuid4())
    store.add_card(uow.session, card_uuid, ehr.pk, child, child.result["status"], hooks.clock.now())
    return [_card(hooks, card_uuid, words, child.id)], f"Screening/{child.screening_pk} cards 1", child.screening_id


def patient_view(cmd: CallCdsService, uow: UnitOfWork, *, hooks: CdsHooks) -> dict:
    """The CDS Hooks response (``{"cards": [...]}``) for a patient-view call: ``NotAuthenticated`` for
    any failure of the JWT, ``Invalid`` for a body that is not a patient-view request; no card when
    the child is not found, is of another site, refused consent, is ineligible or was never screened.
    One transaction, ended (the ``jti`` kept) before any wait on the EHR's FHIR server."""
    # Read before the transaction: reading the protocol may take a connection of its own.
    criterion_name = hooks.protocols.current().criterion_name
    with uow:
        ehr, _ = authenticated(cmd, uow, hooks, "cds-patient-view")
        patient_id, body = _request(cmd.body)
        found = _prefetched(body)
        if found is None and (read := _ehr_read(ehr, patient_id, body)) is not None:
            uow.commit()
            found = _read_from_ehr(read, hooks.http)
        patient = _a_patient(found)
        cards, said, screening_id = _cards_for(uow, hooks, ehr, names_of(patient) if patient else (),
                                               criterion_name)
        audit.record(uow.session, ehr.actor, "cds-patient-view", said, hooks.clock.now(), role="ehr",
                     screening_id=screening_id, outcome=f"cards {len(cards)}")
        uow.commit()
    return {"cards": cards}


# --- feedback ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    card: str
    outcome: str
    reason: str | None
    at: datetime


def _moment(value: object, default: datetime) -> datetime:
    if not isinstance(value, str):
        return default
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("outcomeTimestamp is an ISO 8601 date-time") from None
    if not 1900 <= moment.year <= 2200:
        raise Invalid("outcomeTimestamp is out of range")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outcome(entry: object, now: datetime) -> Outcome:
    if not isinstance(entry, dict) or not isinstance(entry.get("card"), str) or len(entry["card"]) > 36:
        raise Invalid("each feedback names its card by the card's uuid")
    outcome = entry.get("outcome")
    if outcome not in ("accepted", "overridden"):
        raise Invalid("a feedback's outcome is accepted or overridden")
    reason = None
    if outcome == "overridden":
        given = entry.get("overrideReason")
        coding = given.get("reason") if isinstance(given, dict) else None
        code = coding.get("code") if isinstance(coding, dict) else None
        # Only a code is kept, never the clinician's free-text comment (it may name the child).
        reason = code[:64] if isinstance(code, str) and code else None
    return Outcome(entry["card"], outcome, reason, _moment(entry.get("outcomeTimestamp"), now))


def feedback(cmd: CallCdsService, uow: UnitOfWork, *, hooks: CdsHooks) -> dict:
    """Record the outcome of each card (accepted, or overridden with its reason), audited; feedback on
    a card this EHR was never shown is left out. Answers how many were recorded."""
    now = hooks.clock.now()
    with uow:
        ehr, _ = authenticated(cmd, uow, hooks, "cds-feedback")
        body = cmd.body
        if not isinstance(body, dict) or not isinstance(body.get("feedback"), list) or len(body["feedback"]) > 100:
            raise Invalid("a CDS Hooks feedback request carries a list feedback (at most 100)")
        outcomes = [_outcome(entry, now) for entry in body["feedback"]]
        recorded = 0
        for outcome in outcomes:
            found = store.card_of(uow.session, outcome.card, ehr.pk)
            if found is None:
                continue
            store.add_feedback(uow.session, found[0], outcome.outcome, outcome.reason, outcome.at, now)
            audit.record(uow.session, ehr.actor, f"cds-card-{outcome.outcome}", None, now,
                         screening_id=found[1])
            recorded += 1
        uow.commit()
    return {"recorded": recorded}
