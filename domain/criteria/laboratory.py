"""Exclusions decided by laboratory results: CMV, kidney, blood counts, antiphospholipids."""

from __future__ import annotations

from domain.context import Context
from domain.criteria.base import criterion, fails, judged, passes, unknown
from domain.criteria.readings import Reading, latest_reading
from domain.verdicts import Finding, Kind


@criterion("EXC-CMV-PCR", Kind.EXCLUSION)
def positive_blood_cmv_pcr(ctx: Context) -> Finding:
    """"Positive blood CMV PCR"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-CRCL", Kind.EXCLUSION)
def low_creatinine_clearance(ctx: Context) -> Finding:
    """"Creatinine clearance < 40 ml/min"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-ALC", Kind.EXCLUSION)
def low_lymphocytes(ctx: Context) -> Finding:
    """"Lymphocytes < 0,5x109 cell/L"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-ANC", Kind.EXCLUSION)
def low_neutrophils(ctx: Context) -> Finding:
    """"Neutrophils < 1x109 cell/L"
    """
    return unknown("Not evaluated yet")


@criterion("EXC-HB", Kind.EXCLUSION)
def low_haemoglobin(ctx: Context) -> Finding:
    """"Hemoglobin < 8 g/dL"

    The latest haemoglobin within its validity, in g/dL (g/L and mmol/L converted).
    """
    reading = latest_reading(ctx, "lab.haemoglobin", "haemoglobin", ctx.protocol.validity.haemoglobin, "haemoglobin")
    if not isinstance(reading, Reading):
        return reading
    limit = ctx.protocol.thresholds.haemoglobin_below_g_dl
    hb = reading.result
    shown = f"{reading.shown('g/dL')} on {hb.on.isoformat()}"
    if reading.value < limit or (reading.comparator in ("<", "<=") and reading.value <= limit):
        return fails(f"Haemoglobin {shown}, below {limit:g} g/dL", hb)
    return passes(f"Haemoglobin {shown}, not below {limit:g} g/dL", hb, changes_on=reading.stale_on)


@criterion("EXC-APL", Kind.EXCLUSION)
def antiphospholipid_antibodies(ctx: Context) -> Finding:
    """"Positivity for antiphospholipids antibodies (Lupus anticoagulant and/or anti-beta2 glycoprotein 1 and/or anti-cardiolipin)"
    """
    return unknown("Not evaluated yet")
