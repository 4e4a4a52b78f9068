"""Signing in to the pages through the hospital's OpenID provider (contract §14): the relying party.

Authorization code with PKCE (S256); ``state`` and ``nonce`` kept on the server, single-use, bound to
the browser that started the sign-in (a hash of a random value in its cookie) and valid 10 minutes.
The ID token is checked with PyJWT against the provider's JWKS, fetched again when a token names an
unknown ``kid``; ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` are checked against the one clock.
The groups claim (ID token, else userinfo) gives the role and sites through ``domain.access.grant``.
Every failure is audited and answered as a plain English sentence, each a whole id of the catalog
(``N_``) that the sign-in page writes in the reader's language; the provider's HTTP is behind
``ProviderHttp`` so the flow is testable."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

import jwt
from sqlalchemy import select

from domain.access import Granted, grant, reauthentication_problem
from config.words import N_
from domain.identity import Caller
from store import access, audit, ui_sessions
from store.models import OidcLogin
from store.uow import UnitOfWork
from service.ports import Clock
from service.commands import Reauthenticated
from service.sessions import PAGE_ROLES, SESSION_SECONDS, person_label, role_refusal

LOGIN_SECONDS = 600
LEEWAY_SECONDS = 60
"""Clock difference tolerated between the provider and us on ``exp`` and ``iat``."""
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ProviderHttp(Protocol):
    """The provider's HTTP endpoints: JSON documents, and the token endpoint's form post."""

    def get_json(self, url: str, bearer: str | None = None) -> dict: ...

    def post_form(self, url: str, form: dict[str, str], basic: tuple[str, str]) -> dict: ...


class SignInFailed(Exception):
    """A sign-in that cannot go on: ``sentence`` for the person, ``reason`` for the audit."""

    def __init__(self, reason: str, sentence: str) -> None:
        super().__init__(reason)
        self.reason, self.sentence = reason, sentence


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    groups_claim: str
    redirect_uri: str
    signed_out_uri: str

    @classmethod
    def of(cls, settings) -> OidcSettings:
        base = settings.base_url.rstrip("/")
        return cls(settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, settings.oidc_client_secret or "",
                   settings.oidc_scopes, settings.oidc_groups_claim, settings.oidc_redirect_uri, f"{base}/ui/login")


class Provider:
    """The provider as this process knows it: its discovery document and its keys, kept between
    sign-ins; the keys are fetched again when a token names a ``kid`` not among them."""

    def __init__(self, config: OidcSettings, http: ProviderHttp) -> None:
        self.config, self.http = config, http
        self._metadata: dict | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def metadata(self) -> dict:
        if self._metadata is None:
            found = self._fetch(f"{self.config.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.config.issuer:
                raise SignInFailed("discovery-issuer", N_("The hospital's sign-in service answered as another "
                                                         "issuer. Please sign in again."))
            if not all(isinstance(found.get(k), str) for k in ("authorization_endpoint", "token_endpoint",
                                                               "jwks_uri")):
                raise SignInFailed("discovery-incomplete", N_("The hospital's sign-in service does not describe "
                                                             "its endpoints. Please tell the trial's administrator."))
            self._metadata = found
        return self._metadata

    def _fetch(self, url: str, bearer: str | None = None) -> dict:
        try:
            return self.http.get_json(url, bearer)
        except Exception:  # noqa: BLE001 - whatever the network does, the person gets a sentence
            raise SignInFailed("provider-unreachable", N_("The hospital's sign-in service could not be reached. "
                                                         "Please try again in a moment.")) from None

    def key(self, kid: str | None) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys:
                document = self._fetch(self.metadata()["jwks_uri"])
                try:
                    self._keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(document).keys if k.key_id}
                except jwt.PyJWTError:
                    raise SignInFailed("jwks-unreadable", N_("The sign-in could not be verified (the keys of the "
                                                          "hospital's sign-in service do not read). Please sign "
                                                          "in again.")) from None
            if kid not in self._keys:
                raise SignInFailed("unknown-key", N_("The sign-in could not be verified (unknown signing key). "
                                                      "Please sign in again."))
            return self._keys[kid]

    def redeem(self, code: str, verifier: str) -> dict:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_uri,
                "code_verifier": verifier}
        try:
            return self.http.post_form(self.metadata()["token_endpoint"], form,
                                       (self.config.client_id, self.config.client_secret))
        except SignInFailed:
            raise
        except Exception:  # noqa: BLE001 - a refused or replayed code, an unreachable provider
            raise SignInFailed("code-refused", N_("The hospital's sign-in service did not confirm this sign-in. "
                                                 "Please sign in again.")) from None

    def userinfo(self, access_token: str) -> dict:
        endpoint = self.metadata().get("userinfo_endpoint")
        return self._fetch(endpoint, access_token) if endpoint and access_token else {}


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the value its cookie must carry back."""

    url: str
    browser_secret: str


def start_sign_in(provider: Provider, uow: UnitOfWork, *, clock: Clock) -> Started:
    """Keep a new sign-in's state, nonce and PKCE verifier; the provider's authorization URL."""
    return _start(provider, uow, clock, {}, {})


def start_signing(provider: Provider, session_id: str, signing: dict, uow: UnitOfWork, *, clock: Clock) -> Started:
    """Send a signer signed in through the provider back to it to enter their credentials again
    (``prompt=login``, ``max_age=0``) before their confirmation is signed (contract §9, §14).
    ``signing`` holds ``patient``, ``as_of`` (ISO day) and ``meaning``."""
    with uow:
        person = ui_sessions.live_person(uow.session, session_id, clock.now() - timedelta(seconds=SESSION_SECONDS))
    if person is None:
        raise SignInFailed("reauth-no-person", N_("Only a person signed in with the hospital account signs this "
                                                   "way."))
    row = {"purpose": "sign", "session_hash": ui_sessions.id_hash(session_id), "signing": signing}
    return _start(provider, uow, clock, row, {"prompt": "login", "max_age": "0"})


def _start(provider: Provider, uow: UnitOfWork, clock: Clock, row: dict, extra: dict) -> Started:
    endpoint = provider.metadata()["authorization_endpoint"]
    state, nonce, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with uow:
        uow.session.add(OidcLogin(state_hash=_hash(state), browser_hash=_hash(browser), nonce=nonce,
                                  code_verifier=verifier, created_at=clock.now(), **row))
        uow.commit()
    query = {"response_type": "code", "client_id": provider.config.client_id,
             "redirect_uri": provider.config.redirect_uri, "scope": provider.config.scopes, "state": state,
             "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return Started(f"{endpoint}?{urlencode(query)}", browser)


def _claim_login(uow: UnitOfWork, state: str, browser_secret: str | None, now) -> OidcLogin:
    """The sign-in this ``state`` started, marked used: refused when unknown, used already, started in
    another browser or older than 10 minutes. Call inside ``with uow``."""
    row = uow.session.scalar(select(OidcLogin).where(OidcLogin.state_hash == _hash(state or ""))
                             .with_for_update())
    if row is None or row.used_at is not None:
        raise SignInFailed("state-unknown", N_("This sign-in link is unknown or was used already. Please sign "
                                                "in again."))
    row.used_at = now
    if not browser_secret or not secrets.compare_digest(row.browser_hash, _hash(browser_secret)):
        raise SignInFailed("state-other-browser", N_("This sign-in was started in another browser. Please sign "
                                                      "in again."))
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=now.tzinfo)
    if now - created > timedelta(seconds=LOGIN_SECONDS):
        raise SignInFailed("state-expired", N_("The sign-in took more than 10 minutes. Please sign in again."))
    return row


def checked_id_token(provider: Provider, id_token: str, nonce: str, now) -> dict:
    """The ID token's claims once its signature (JWKS), ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce``
    hold; SignInFailed otherwise. ``alg`` ``none`` and symmetric algorithms are refused."""
    refused = SignInFailed("id-token-invalid", N_("The sign-in could not be verified. Please sign in again."))
    try:
        header = jwt.get_unverified_header(id_token)
        if header.get("alg") not in SIGNING_ALGORITHMS:
            raise refused
        claims = jwt.decode(id_token, provider.key(header.get("kid")), algorithms=[header["alg"]],
                            audience=provider.config.client_id, issuer=provider.metadata()["issuer"],
                            options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        raise refused from None
    instant = now.timestamp()
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + LEEWAY_SECONDS < instant:
        raise SignInFailed("id-token-expired", N_("The sign-in had expired before it reached myocit. Please "
                                                   "sign in again."))
    if not isinstance(claims.get("iat"), (int, float)) or claims["iat"] - LEEWAY_SECONDS > instant:
        raise refused
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise SignInFailed("nonce-mismatch", N_("The sign-in did not match the one this browser started. "
                                                 "Please sign in again."))
    return claims


def _groups(provider: Provider, claims: dict, tokens: dict) -> list[str]:
    name = provider.config.groups_claim
    found = claims.get(name)
    if found is None:
        userinfo = provider.userinfo(tokens.get("access_token", ""))
        found = userinfo.get(name) if userinfo.get("sub") == claims["sub"] else None
    if isinstance(found, str):
        found = [found]
    return [g for g in found or () if isinstance(g, str)]


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    name: str
    role: str


@dataclass(frozen=True)
class Returned:
    """What came back from the provider, as the callback received it."""

    code: str | None
    state: str | None
    error: str | None
    browser_secret: str | None
    address: str


@dataclass(frozen=True)
class SigningProven:
    """The provider re-authenticated the signer: what they began to sign, and how they are named."""

    patient_id: str
    as_of: date
    meaning: str
    reauthenticated: Reauthenticated
    signer: Caller


def finish_sign_in(provider: Provider, back: Returned, uow: UnitOfWork, *,
                   clock: Clock) -> SignedIn | SigningProven:
    """Open a page session for the person the provider vouches for, with the role and sites of their
    group mappings; SignInFailed (audited) otherwise."""
    with uow:
        try:
            signed_in = _finish(provider, back, uow, clock)
        except SignInFailed as failed:
            audit.record(uow.session, "anonymous", "sign-in-failed", f"oidc {failed.reason}; address "
                         f"{back.address}", clock.now())
            uow.commit()
            raise
        uow.commit()
    return signed_in


def _finish(provider: Provider, back: Returned, uow: UnitOfWork, clock: Clock) -> SignedIn:
    if back.error or not back.code:
        raise SignInFailed(f"provider-error {back.error or 'no-code'}"[:60],
                           N_("The hospital's sign-in service did not sign you in. Please sign in again."))
    login = _claim_login(uow, back.state or "", back.browser_secret, clock.now())
    uow.session.flush()
    tokens = provider.redeem(back.code, login.code_verifier)
    claims = checked_id_token(provider, str(tokens.get("id_token", "")), login.nonce, clock.now())
    if login.purpose == "sign":
        return _signing_proven(provider, login, claims, back, uow, clock)
    groups = _groups(provider, claims, tokens)
    decided = grant(groups, access.active_mappings(uow.session, groups))
    if not isinstance(decided, Granted):
        raise SignInFailed("no-role", decided.sentence)
    if decided.role not in PAGE_ROLES:
        raise SignInFailed("role-without-pages", role_refusal(decided.role))
    issuer, subject = provider.metadata()["issuer"], str(claims["sub"])
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    session_id = secrets.token_urlsafe(32)
    ui_sessions.start_person(uow.session, session_id, {
        "issuer": issuer[:255], "subject": subject[:255], "person_name": name[:200] if name else None,
        "role": decided.role, "sites": sorted(decided.sites), "mapping_pks": sorted(decided.mapping_pks),
        "id_token": tokens.get("id_token")}, clock.now())
    label = person_label(issuer, subject, name)
    audit.record(uow.session, label, "sign-in", f"oidc role {decided.role}", clock.now())
    return SignedIn(session_id, label, decided.role)


def signed_out_url(provider: Provider, id_token: str | None) -> str | None:
    """The provider's sign-out with ``id_token_hint``, when it offers one (RP-initiated logout)."""
    try:
        endpoint = provider.metadata().get("end_session_endpoint")
    except SignInFailed:
        return None
    if not endpoint:
        return None
    query = {"post_logout_redirect_uri": provider.config.signed_out_uri, "client_id": provider.config.client_id}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(query)}"


def _signing_proven(provider: Provider, login: OidcLogin, claims: dict, back: Returned, uow: UnitOfWork,
                    clock: Clock) -> SigningProven:
    """The signer's own session came back, re-authenticated by the provider after the signing began."""
    oldest = clock.now() - timedelta(seconds=SESSION_SECONDS)
    # The browser is the one that began the signature (its cookie); the session must still be live.
    person = ui_sessions.live_person_by_hash(uow.session, login.session_hash, oldest)
    if person is None:
        raise SignInFailed("reauth-session-ended", N_("Your session ended before the signature. Nothing was "
                                                       "signed."))
    issuer = provider.metadata()["issuer"]
    began = login.created_at if login.created_at.tzinfo else login.created_at.replace(tzinfo=UTC)
    problem = reauthentication_problem((person.issuer, person.subject), (issuer, str(claims["sub"])),
                                       claims.get("auth_time"), began.timestamp())
    if problem is not None:
        raise SignInFailed("reauth-refused", problem)
    signing = login.signing or {}
    proof = Reauthenticated(issuer, person.subject, person.person_name,
                            datetime.fromtimestamp(claims["auth_time"], UTC))
    audit.record(uow.session, person_label(issuer, person.subject, person.person_name), "reauthenticated",
                 "signature", clock.now(), role=person.role)
    signer = Caller(person_label(issuer, person.subject, person.person_name), person.role,
                    frozenset(person.sites or ()))
    return SigningProven(str(signing.get("patient", "")), date.fromisoformat(signing["as_of"]),
                         str(signing.get("meaning", "")), proof, signer)
