"""EXC-CRCL and the paediatric kidney function it reads (criteria-catalogue §5).

The arithmetic is pure and in the units the rule compares in: height in cm, weight in kg, creatinine
in mg/dL, clearance in mL/min and mL/min/1.73 m². Results are rounded to 6 decimals so that values
equal on paper (0.413 × 100 / 1.0325 = 40) are not pushed below a threshold by floating-point noise.
"""

from __future__ import annotations

from domain.wording import Figures, capitalised, joined, said_as, term

from datetime import date
from math import sqrt
from typing import NamedTuple

from domain.context import Context
from domain.criteria.base import criterion, earliest, unknown
from domain.criteria.readings import Latest, against_limit, latest_result, shown_number
from domain.facts import LabResult
from domain.ucum import unit_named
from domain.units import CANONICAL, convert
from domain.verdicts import Finding, Kind

GFR_UNIT = CANONICAL["gfr"]

# -- the arithmetic ----------------------------------------------------------------------------

STANDARD_BSA_M2 = 1.73
# Beyond any child, premature newborn to tall adolescent: a value outside is an entry error or a unit
# slip, and arithmetic on it would decide (or divide by a body surface rounded to zero).
PLAUSIBLE_HEIGHT_CM = (20.0, 250.0)
PLAUSIBLE_WEIGHT_KG = (0.2, 300.0)
_DIGITS = 6
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def implausible_height(cm: float) -> bool:
    low, high = PLAUSIBLE_HEIGHT_CM
    return not low <= cm <= high


def implausible_weight(kg: float) -> bool:
    low, high = PLAUSIBLE_WEIGHT_KG
    return not low <= kg <= high


def bedside_schwartz(height_cm: float, creatinine_mg_dl: float, k: float) -> float | None:
    """eGFR (mL/min/1.73 m²) = k × height (cm) / creatinine (mg/dL); None unless both are positive."""
    if height_cm <= 0 or creatinine_mg_dl <= 0:
        return None
    return round(k * height_cm / creatinine_mg_dl, _DIGITS)


def mosteller_bsa(height_cm: float, weight_kg: float) -> float | None:
    """Body surface area (m²) = √(height cm × weight kg / 3600); None unless both are positive and the
    surface is not rounded to nothing."""
    if height_cm <= 0 or weight_kg <= 0:
        return None
    return round(sqrt(height_cm * weight_kg / 3600), _DIGITS) or None


def normalised_clearance(ml_min: float, bsa_m2: float) -> float:
    """A measured clearance per 1.73 m² of body surface: mL/min × 1.73 / BSA."""
    return round(ml_min * STANDARD_BSA_M2 / bsa_m2, _DIGITS)


def inverse_comparator(comparator: str | None) -> str | None:
    """The comparator of a quotient's value when its divisor carried ``comparator``: ``<`` becomes ``>``."""
    return _FLIPPED.get(comparator) if comparator else None


# -- the rule ----------------------------------------------------------------------------------


def _plausible_range(bounds: tuple[float, float], unit: str) -> str:
    return said_as('{bounds} to {bounds2} {unit} for a child', bounds=Figures(f'{bounds[0]:g}'), bounds2=Figures(f'{bounds[1]:g}'), unit=unit)


class _Clearance(NamedTuple):
    """A clearance in mL/min/1.73 m², how it was obtained, and what it rests on."""

    value: float
    comparator: str | None
    how: str
    facts: tuple
    stale_on: date | None


@criterion("EXC-CRCL", Kind.EXCLUSION)
def low_creatinine_clearance(ctx: Context) -> Finding:
    """"Creatinine clearance < 40 ml/min"

    Read as mL/min/1.73 m² (catalogue §5). The newest of a measured clearance, a lab-reported
    paediatric eGFR and a creatinine decides; a creatinine gives bedside Schwartz with a height taken
    at most ``windows.height_before_creatinine`` days before it, and wins ties (contract §1).
    """
    protocol = ctx.protocol
    validity = protocol.validity.creatinine
    creatinine = latest_result(ctx, "lab.creatinine", "creatinine", validity)
    measured = latest_result(ctx, "lab.creatinine_clearance", "measured creatinine clearance", validity)
    reported = latest_result(ctx, "lab.egfr_paediatric", "paediatric eGFR", validity)
    inputs = (creatinine, measured, reported)
    newest = max((f.usable.on for f in inputs if f.usable is not None), default=None)
    if newest is None:
        held = [f.missing() for f in inputs if f.result is not None]
        if not held:
            return unknown(said_as("No creatinine, measured creatinine clearance or paediatric eGFR"))
        return unknown(lambda: said_as("No usable kidney function result: {missing}", missing=joined(held)),
                       *(f.result for f in inputs))
    estimate: _Clearance | Finding | None = None
    if creatinine.usable is not None and creatinine.usable.on == newest:
        estimate = _schwartz(ctx, creatinine)
    if not isinstance(estimate, _Clearance):
        for source in (measured, reported):
            if source.usable is not None and source.usable.on == newest:
                estimate = _reported(ctx, source, measured=source is measured)
                break
    if not isinstance(estimate, _Clearance):
        return estimate
    limit = protocol.thresholds.clearance_below_ml_min_173
    shown = _gfr(estimate.value, estimate.comparator, limit)
    return against_limit(
        said_as('{how}: {shown}', how=estimate.how, shown=shown),
        estimate.value,
        estimate.comparator,
        limit,
        GFR_UNIT,
        estimate.facts,
        estimate.stale_on,
    )


def _gfr(value: float, comparator: str | None, limit: float) -> str:
    """One decimal, unless rounding would put the shown value on the other side of the limit."""
    shown = f'{value:.1f}'
    if (value < limit) != (float(shown) < limit):
        shown = f'{value:.3f}'
    return Figures(f"{comparator or ''}{shown} {GFR_UNIT}")


def _schwartz(ctx: Context, creatinine: Latest) -> _Clearance | Finding:
    protocol = ctx.protocol
    result: LabResult = creatinine.usable
    quantity = result.quantity
    day = result.on
    if quantity is None:
        return unknown(lambda: said_as('The creatinine of {day} carries no value', day=day), result)
    mg_dl = convert(quantity, "creatinine")
    if mg_dl is None:
        return unknown(
            lambda: said_as('The creatinine of {day} is in {unit}, which cannot be converted to mg/dL', day=day, unit=unit_named(quantity.unit)), result
        )
    window = protocol.windows.height_before_creatinine
    height = _height_before(ctx, result.on, window)
    if height is None:
        return unknown(lambda: said_as('Creatinine {quantity} on {day} but no height within {window} days before it', quantity=quantity, day=day, window=window), result)
    if not ctx.fresh(height.on, protocol.validity.height):
        return unknown(
            lambda: (said_as('Creatinine {quantity} on {day} but the height of {on} is older than {height} days', quantity=quantity, day=day, on=height.on, height=protocol.validity.height)),
            result,
            height,
        )
    if height.quantity is None:
        return unknown(lambda: said_as('The height of {on} carries no value', on=height.on), result, height)
    cm = convert(height.quantity, "length")
    if cm is None:
        return unknown(
            lambda: (said_as('The height of {on} is in {unit}, which cannot be converted to cm', on=height.on, unit=unit_named(height.quantity.unit))),
            result,
            height,
        )
    if implausible_height(cm):
        return unknown(
            lambda: (said_as('Creatinine {quantity} on {day} but the height of {on}, {quantity2}, is not a plausible height ({plausible_range})', quantity=quantity, day=day, on=height.on, quantity2=height.quantity, plausible_range=_plausible_range(PLAUSIBLE_HEIGHT_CM, 'cm'))),
            result,
            height,
        )
    k = protocol.thresholds.schwartz_k
    value = bedside_schwartz(cm, mg_dl, k)
    if value is None or height.quantity.comparator:
        return unknown(
            lambda: said_as('Creatinine {quantity} and height {quantity2} give no bedside Schwartz eGFR', quantity=quantity, quantity2=height.quantity),
            result,
            height,
        )
    how = (
        said_as('eGFR by bedside Schwartz ({k} × {shown_number} cm / {shown_number2} mg/dL) from creatinine {quantity} on {day} and height {quantity2} on {on}', k=Figures(f'{k:g}'), shown_number=shown_number(cm), shown_number2=shown_number(mg_dl), quantity=quantity, day=day, quantity2=height.quantity, on=height.on)
    )
    stale_on = earliest(creatinine.stale_on, ctx.stale_on(height.on, protocol.validity.height))
    return _Clearance(value, inverse_comparator(quantity.comparator), how, (result, height), stale_on)


def _height_before(ctx: Context, day: date, window: int) -> LabResult | None:
    """The newest height on ``day`` or at most ``window`` days before it."""
    for height in ctx.all("vital.height"):
        if height.on > day:
            continue
        return height if (day - height.on).days <= window else None
    return None


def _reported(ctx: Context, source: Latest, *, measured: bool) -> _Clearance | Finding:
    result: LabResult = source.usable
    quantity = result.quantity
    day = result.on
    label = source.label
    if quantity is None:
        return unknown(lambda: said_as('The {label} of {day} carries no value', label=term(label), day=day), result)
    value = convert(quantity, "gfr")
    if value is None:
        return unknown(
            lambda: said_as('The {label} of {day} is in {unit}, which cannot be converted to {GFR_UNIT}', label=term(label), day=day, unit=unit_named(quantity.unit), GFR_UNIT=GFR_UNIT), result
        )
    how = said_as('{test} {quantity} on {on}', test=capitalised(said_as("{test}", test=term(label))),
                  quantity=Figures(str(quantity)), on=day)
    if not measured or quantity.unit.lower().replace(" ", "") != "ml/min":
        return _Clearance(value, quantity.comparator, how, (result,), source.stale_on)
    return _per_body_surface(ctx, source, value, how)


def _per_body_surface(ctx: Context, source: Latest, ml_min: float, how: str) -> _Clearance | Finding:
    """A measured clearance in plain mL/min, normalised with Mosteller's body surface when possible.

    A height or weight in a unit that cannot be converted is unusable (contract §1.1): the clearance
    is not taken as it stands, since that would hide a measurement the record does hold.
    """
    validity = ctx.protocol.validity
    height = latest_result(ctx, "vital.height", "height", validity.height)
    weight = latest_result(ctx, "vital.weight", "weight", validity.weight)
    result = source.usable
    bsa = None
    h, w = height.usable, weight.usable
    if h is not None and w is not None and h.quantity is not None and w.quantity is not None:
        cm = convert(h.quantity, "length")
        kg = convert(w.quantity, "mass")
        for label, fact, value, unit in (("height", h, cm, "cm"), ("weight", w, kg, "kg")):
            if value is None:
                return unknown(
                    lambda: (said_as('{how}, to normalise to 1.73 m²: the {label} of {on} is in {unit}, which cannot be converted to {unit2}', how=how, label=term(label), on=fact.on, unit=unit_named(fact.quantity.unit), unit2=unit)),
                    result,
                    fact,
                )
        for label, fact, value, implausible, plausible, unit in (
            ("height", h, cm, implausible_height, PLAUSIBLE_HEIGHT_CM, "cm"),
            ("weight", w, kg, implausible_weight, PLAUSIBLE_WEIGHT_KG, "kg"),
        ):
            if implausible(value):
                return unknown(
                    lambda: (said_as('{how}, to normalise to 1.73 m²: the {label} of {on}, {quantity}, is not a plausible {label2} ({plausible_range})', how=how, label=term(label), on=fact.on, quantity=fact.quantity, label2=term(label), plausible_range=_plausible_range(plausible, unit))),
                    result,
                    fact,
                )
        bsa = mosteller_bsa(cm, kg)  # type: ignore[arg-type]
    comparator = result.quantity.comparator
    if bsa is None:
        return _Clearance(
            ml_min,
            comparator,
            said_as('{how}, taken as per 1.73 m²: no recent height and weight to normalise it', how=how),
            (result,),
            source.stale_on,
        )
    how = (
        said_as('{how}, normalised to 1.73 m² for a body surface of {bsa} m² (Mosteller, height {quantity} on {on}, weight {quantity2} on {on2})', how=how, bsa=Figures(f'{bsa:.2f}'), quantity=h.quantity, on=h.on, quantity2=w.quantity, on2=w.on)
    )
    stale_on = earliest(source.stale_on, height.stale_on, weight.stale_on)
    return _Clearance(normalised_clearance(ml_min, bsa), comparator, how, (result, h, w), stale_on)
