"""Passive antibodies before a serology sample: one reading for every criterion that asks.

Catalogue §6(d): immunoglobulins or blood products given shortly before a serology sample can carry
the antibodies the sample finds. An exposure counts when its last day falls within
``windows.passive_antibodies`` days before the sample. Its last day is its end date; without one, the
sample day while the exposure is still ``active`` (an ongoing course), else its start day (a completed
or single administration lasted that day). So a single infusion recorded without an end date two
years before a sample does not make the sample suspect.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from domain.context import Context
from domain.facts import MedicationExposure


class PassiveAntibodies(NamedTuple):
    """The exposure that may explain a sample's antibodies, and its last day up to the sample."""

    exposure: MedicationExposure
    last_day: date

    def days_before(self, sample: date) -> int:
        return (sample - self.last_day).days


def passive_antibodies_before(ctx: Context, sample: date) -> PassiveAntibodies | None:
    """The latest passive-antibody exposure whose last day falls within the window before ``sample``."""
    window = ctx.protocol.windows.passive_antibodies
    for exposure in ctx.all("med.passive_antibodies"):
        if exposure.on > sample:
            continue
        last_day = exposure_last_day(exposure, sample)
        if (sample - last_day).days <= window:
            return PassiveAntibodies(exposure, last_day)
    return None


def exposure_last_day(exposure: MedicationExposure, sample: date) -> date:
    """The exposure's last day, up to the sample day."""
    if exposure.until is not None:
        return min(exposure.until, sample)
    return sample if exposure.status == "active" else exposure.on
