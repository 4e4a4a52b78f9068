"""What administrators do: tokens bound to sites, and where each site's alerts go. Every act is
audited with who did it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from config.language import LANGUAGES
from store import audit, deliveries, fhir_subscriptions, tokens
from store.models import ApiToken, Subscription, row_id_in_range
from store.tokens import TokenError
from store.uow import UnitOfWork
from service.commands import BindTokenSites, CreateSubscription, CreateToken, DeactivateSubscription, RevokeToken
from service.errors import Invalid, NotFound
from service.ports import Clock


@dataclass(frozen=True)
class TokenSummary:
    """A token as its administrator is told about it (never its hash)."""

    pk: int
    name: str | None
    sites: list[str]

    @classmethod
    def of(cls, row: ApiToken) -> TokenSummary:
        return cls(row.pk, row.name, list(row.sites or ()))


@dataclass(frozen=True)
class SubscriptionSummary:
    """Where a site's alerts go (never the webhook's secret)."""

    pk: int
    site: str
    channel: str
    target: str
    active: bool
    created_at: datetime

    language: str | None = None

    @classmethod
    def of(cls, row: Subscription) -> SubscriptionSummary:
        return cls(row.pk, row.site, row.channel, row.target, row.active, row.created_at, row.language)


@dataclass(frozen=True)
class NewSubscription:
    subscription: SubscriptionSummary
    secret: str | None
    """A webhook's signing secret, shown once here and never listed again."""


def create_token(cmd: CreateToken, uow: UnitOfWork, *, clock: Clock) -> str:
    """The new bearer token, shown once (only its hash is kept); ``Invalid`` for a role or sites
    that do not fit (contract §13: every token but an admin's names its sites)."""
    if cmd.name is not None and len(cmd.name) > 120:
        raise Invalid("--name: at most 120 characters")
    with uow:
        try:
            token = tokens.create_token(uow.session, cmd.role, list(cmd.sites), cmd.name, clock.now())
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        audit.record(uow.session, cmd.actor, "token-create", f"role {cmd.role}", clock.now())
        uow.commit()
    return token


def revoke_token(cmd: RevokeToken, uow: UnitOfWork, *, clock: Clock) -> TokenSummary:
    """Idempotent: revoking twice keeps the first date."""
    with uow:
        row = tokens.revoke_token(uow.session, cmd.token_id, clock.now()) if row_id_in_range(cmd.token_id) else None
        if row is None:
            raise NotFound(f"no token {cmd.token_id} (see `myocit token list`)")
        audit.record(uow.session, cmd.actor, "token-revoke", f"Token/{cmd.token_id}", clock.now())
        revoked = TokenSummary.of(row)
        uow.commit()
    return revoked


def bind_token_sites(cmd: BindTokenSites, uow: UnitOfWork, *, clock: Clock) -> TokenSummary:
    with uow:
        try:
            row = tokens.set_sites(uow.session, cmd.token_id, list(cmd.sites)) \
                if row_id_in_range(cmd.token_id) else None
        except TokenError as exc:
            raise Invalid(str(exc)) from None
        if row is None:
            raise NotFound(f"no token {cmd.token_id} (see `myocit token list`)")
        audit.record(uow.session, cmd.actor, "token-sites", f"Token/{cmd.token_id}", clock.now())
        bound = TokenSummary.of(row)
        uow.commit()
    return bound


def create_subscription(cmd: CreateSubscription, uow: UnitOfWork, *, clock: Clock) -> NewSubscription:
    if cmd.channel == "email" and ("@" not in cmd.target or any(c.isspace() for c in cmd.target)):
        raise Invalid("target: an email address is expected")
    if cmd.channel == "webhook" and not cmd.target.startswith(("https://", "http://")):
        raise Invalid("target: an http(s) URL is expected")
    if cmd.language is not None and cmd.language not in LANGUAGES:
        raise Invalid(f"language: one of {', '.join(LANGUAGES)} is expected")
    with uow:
        row = deliveries.create_subscription(uow.session, site=cmd.site, channel=cmd.channel, target=cmd.target,
                                             now=clock.now(), language=cmd.language)
        audit.record(uow.session, cmd.actor, "subscription-create", f"Subscription/{row.pk}", clock.now())
        made = NewSubscription(SubscriptionSummary.of(row), row.secret)
        uow.commit()
    return made


def deactivate_subscription(cmd: DeactivateSubscription, uow: UnitOfWork, *, clock: Clock) -> SubscriptionSummary:
    """Idempotent: deactivating twice leaves it inactive."""
    with uow:
        row = deliveries.deactivate_subscription(uow.session, cmd.subscription_id) \
            if row_id_in_range(cmd.subscription_id) else None
        if row is None:
            raise NotFound(f"no subscription {cmd.subscription_id}")
        audit.record(uow.session, cmd.actor, "subscription-deactivate", f"Subscription/{row.pk}", clock.now())
        deactivated = SubscriptionSummary.of(row)
        uow.commit()
    return deactivated


def subscription_json(row: Subscription) -> dict:
    """A subscription as it is answered; its secret never."""
    return {"id": row.pk, "site": row.site, "channel": row.channel, "target": row.target,
            "active": row.active, "created_at": row.created_at.isoformat() if row.created_at else None,
            "language": getattr(row, "language", None)}


def list_subscriptions(uow: UnitOfWork) -> list[dict]:
    """Every site's subscriptions; a FHIR one (channel ``fhir``) with its FHIR ``status`` and
    ``last_event_number`` (contract §16)."""
    with uow:
        fhir = fhir_subscriptions.listing(uow.session)
        listed = []
        for row in deliveries.subscriptions(uow.session):
            answer = subscription_json(row)
            if row.pk in fhir:
                answer |= {"status": fhir[row.pk].status, "last_event_number": fhir[row.pk].last_event_number}
            listed.append(answer)
        return listed
