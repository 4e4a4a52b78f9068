"""Active infections: the umbrella criterion and the named pathogens."""

from __future__ import annotations

from domain.context import Context
from domain.criteria.base import criterion, judged, unknown
from domain.verdicts import Finding, Kind


@criterion("EXC-INF-ACTIVE", Kind.EXCLUSION, attested=True)
def current_or_recent_active_infection(ctx: Context) -> Finding:
    """"Current, or recent (< 4 weeks prior to baseline) of active infections"
    """
    return judged(ctx, "EXC-INF-ACTIVE", None)


@criterion("EXC-INF-HBV", Kind.EXCLUSION)
def active_hepatitis_b(ctx: Context) -> Finding:
    """"... of active infections, including HBV"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-INF-HCV", Kind.EXCLUSION)
def active_hepatitis_c(ctx: Context) -> Finding:
    """"... of active infections, including ... HCV"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-INF-HIV", Kind.EXCLUSION)
def hiv_infection(ctx: Context) -> Finding:
    """"... of active infections, including ... HIV"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-INF-TB", Kind.EXCLUSION)
def active_tuberculosis(ctx: Context) -> Finding:
    """"... of active infections, including ... tuberculosis"
    """
    return unknown("Not evaluated yet")
