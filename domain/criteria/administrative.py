"""Consent, social security, AME and other trials: decided by records, not by labs."""

from __future__ import annotations

from domain.wording import Figures, said_as, term

from datetime import date

from domain.context import ONE_DAY, Context
from domain.criteria.base import (
    ForAttestation,
    attestation_decides,
    criterion,
    fails,
    passes,
    review,
    unknown,
)
from domain.facts import ConsentState, CoverageRecord
from domain.verdicts import Finding, Kind

SOCIAL_SECURITY = "social-security"
AME = "ame"


@criterion("INC-CONSENT", Kind.INCLUSION)
def informed_consent_signed(ctx: Context) -> Finding:
    """"Informed consent form signed by the patient or child' s parents"

    The Consent with the latest date-time decides (contract §1.1), whatever order they arrived in:
    given passes; refused or withdrawn fails until a new consent is recorded. A ``draft`` or
    ``proposed`` Consent records no decision and never counts (``IGNORED_STATUSES``).
    """
    consents = ctx.consents()
    if not consents:
        return unknown(said_as("No consent recorded"))
    latest = consents[0]
    day = latest.on
    if latest.state is ConsentState.GIVEN:
        return passes(lambda: said_as('Consent given on {day}', day=day), latest)
    return fails(lambda: said_as('Consent {value} on {day}', value=term(latest.state.value), day=day), latest)


@criterion("INC-SOCSEC", Kind.INCLUSION)
def affiliated_to_social_security(ctx: Context) -> Finding:
    """"Patient affiliated to a social security regime"

    An active social-security Coverage passes; AME as the only active coverage fails, since AME
    beneficiaries are not affiliated to a French health-insurance scheme (criteria-catalogue §6).
    """
    return _by_coverage(ctx)


@criterion("EXC-AME", Kind.EXCLUSION)
def on_state_medical_aid(ctx: Context) -> Finding:
    """"Patient on AME (state medical aid)"

    Read together with INC-SOCSEC: an active social-security coverage rules it out, AME as the only
    active coverage excludes.
    """
    return _by_coverage(ctx)


def _by_coverage(ctx: Context) -> Finding:
    """One reading of the active coverages for both criteria (contract §1)."""
    held = ctx.coverages()
    active = [c for c in held if _active(ctx, c)]
    social = [c for c in active if _kind(c) == SOCIAL_SECURITY]
    ame = [c for c in active if _kind(c) == AME]
    others = [c for c in active if _kind(c) not in (SOCIAL_SECURITY, AME)]
    if social:
        reason = said_as('Active social-security coverage{period}', period=_period(social[0]))
        return passes(reason, *social, changes_on=_ends(social))
    if ame and not others:
        return fails(lambda: said_as('AME is the only active coverage{period}', period=_period(ame[0])), *ame, changes_on=_ends(ame))
    if ame:
        kinds = ", ".join(sorted({_kind(c) or "unspecified" for c in others}))
        return review(
            lambda: (said_as('AME alongside another active coverage ({kinds}): check whether that is a social-security affiliation', kinds=kinds)),
            *ame,
            *others,
            changes_on=_first_end(active),
        )
    if others:
        kinds = ", ".join(sorted({_kind(c) or "unspecified" for c in others}))
        return unknown(
            lambda: said_as('Active coverage of another kind ({kinds}): no social-security affiliation recorded', kinds=kinds),
            *others,
        )
    ended = [c for c in held if c.until is not None and c.until < ctx.as_of]
    if ended:
        last = max(ended, key=lambda c: c.until)  # type: ignore[arg-type, return-value]
        ended_on = last.until  # type: ignore[union-attr]
        return unknown(lambda: said_as('No active coverage: the latest ended on {ended_on}', ended_on=ended_on), last)
    return unknown(said_as("No active coverage recorded"))


def _active(ctx: Context, coverage: CoverageRecord) -> bool:
    """Active status, and a period that has not ended before ``as_of`` (its last day still counts)."""
    return coverage.status == "active" and (coverage.until is None or coverage.until >= ctx.as_of)


def _kind(coverage: CoverageRecord) -> str:
    return coverage.kind.strip().lower()


def _period(coverage: CoverageRecord) -> str:
    if coverage.until is None:
        return said_as(' since {on}', on=coverage.on)
    return said_as(' from {on} to {until}', on=coverage.on, until=coverage.until)


def _ends(coverages: list[CoverageRecord]) -> date | None:
    """The first day none of these coverages is active any more, or None if one has no end."""
    ends = [c.until for c in coverages]
    if any(end is None for end in ends):
        return None
    return max(ends) + ONE_DAY  # type: ignore[type-var, operator]


def _first_end(coverages: list[CoverageRecord]) -> date | None:
    """The first day one of these coverages is no longer active, or None if none has an end."""
    ends = [c.until for c in coverages if c.until is not None]
    return min(ends) + ONE_DAY if ends else None


@criterion("EXC-OTHER-TRIAL", Kind.EXCLUSION, attested=True)
def in_another_interventional_study(ctx: Context) -> Finding | ForAttestation:
    """"Participation in another interventional study involving human participants or being in the exclusion period at the end of a previous study involving human participants"

    No record the service receives shows trial participation, so the investigator attests it.
    """
    return attestation_decides()
