"""Consent, social security, AME and other trials: decided by records, not by labs."""

from __future__ import annotations

from domain.context import Context
from domain.criteria.base import criterion, judged, unknown
from domain.verdicts import Finding, Kind


@criterion("INC-CONSENT", Kind.INCLUSION)
def informed_consent_signed(ctx: Context) -> Finding:
    """"Informed consent form signed by the patient or child' s parents"
    """
    return unknown("Not evaluated yet")


@criterion("INC-SOCSEC", Kind.INCLUSION)
def affiliated_to_social_security(ctx: Context) -> Finding:
    """"Patient affiliated to a social security regime"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-AME", Kind.EXCLUSION)
def on_state_medical_aid(ctx: Context) -> Finding:
    """"Patient on AME (state medical aid)"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-OTHER-TRIAL", Kind.EXCLUSION, attested=True)
def in_another_interventional_study(ctx: Context) -> Finding:
    """"Participation in another interventional study involving human participants or being in the exclusion period at the end of a previous study involving human participants"
    """
    return judged(ctx, "EXC-OTHER-TRIAL", None)
