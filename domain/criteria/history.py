"""Exclusions from the child's history: disease form, treatments, vaccines, cancer, HSV, thrombosis, severity."""

from __future__ import annotations

from domain.context import Context
from domain.criteria.base import criterion, earliest, fails, judged, review, unknown
from domain.facts import Vaccination
from domain.verdicts import Finding, Kind


@criterion("EXC-AMYOPATHIC", Kind.EXCLUSION, attested=True)
def amyopathic_dermatomyositis(ctx: Context) -> Finding:
    """"Amyopathic dermatomyositis (without muscle weakness)"
    """
    return judged(ctx, "EXC-AMYOPATHIC", None)


@criterion("EXC-ORAL", Kind.EXCLUSION, attested=True)
def cannot_take_oral_treatment(ctx: Context) -> Finding:
    """"Inability to be treated by oral way or to take pills"
    """
    return judged(ctx, "EXC-ORAL", None)


@criterion("EXC-PRIOR-JAKI", Kind.EXCLUSION, attested=True)
def previous_jak_inhibitor(ctx: Context) -> Finding:
    """"Previous treatment with JAK inhibitor"
    """
    return judged(ctx, "EXC-PRIOR-JAKI", None)


@criterion("EXC-PRIOR-IS", Kind.EXCLUSION, attested=True)
def previous_immunosuppressant_for_jdm(ctx: Context) -> Finding:
    """"Previous treatment of JDM with immunosuppressive drugs or biologics other than corticosteroids."
    """
    return judged(ctx, "EXC-PRIOR-IS", None)


@criterion("EXC-PRIOR-CS", Kind.EXCLUSION)
def previous_corticosteroids_beyond_exception(ctx: Context) -> Finding:
    """"Previous treatment with prednisone was allowed if the daily dose was greater than 1 mg/kg for no more than 1 month."
    """
    return unknown("Not evaluated yet")


@criterion("EXC-CANCER-HX", Kind.EXCLUSION, attested=True)
def history_of_cancer(ctx: Context) -> Finding:
    """"Previous history of cancer"
    """
    return judged(ctx, "EXC-CANCER-HX", None)


@criterion("EXC-LIVE-VACCINE", Kind.EXCLUSION, attested=True)
def recent_live_vaccine(ctx: Context) -> Finding:
    """"Live vaccine within the 4 weeks before starting baricitinib therapy"

    A live attenuated vaccine (``vax.live``) given within 28 days before ``as_of`` fails until the
    window ends; a vaccine that may be live (``vax.maybe_live``) needs review. The absence of a record
    proves nothing, so a pass needs the investigator's attestation.
    """
    window = ctx.protocol.windows.live_vaccine
    live = [v for v in ctx.all("vax.live") if ctx.within(v.on, window)]
    if live:
        last: Vaccination = live[0]
        until = ctx.window_end(last.on, window)
        return fails(
            f"Live vaccine ({_vaccine_code(last)}) on {last.on.isoformat()}, "
            f"{ctx.days_before(last.on)} days before; the {window}-day window ends {until.isoformat()}",
            *live,
            until=until,
        )
    maybe = [v for v in ctx.all("vax.maybe_live") if ctx.within(v.on, window)]
    if maybe:
        last = maybe[0]
        return judged(
            ctx,
            "EXC-LIVE-VACCINE",
            review(
                f"Vaccine {_vaccine_code(last)} on {last.on.isoformat()} may be live: check the product",
                *maybe,
                changes_on=ctx.window_end(last.on, window),
            ),
        )
    return judged(ctx, "EXC-LIVE-VACCINE", None)


def _vaccine_code(vaccine: Vaccination) -> str:
    return ", ".join(f"{c.system.upper()} {c.code}" for c in vaccine.codes[:1]) or "uncoded"


@criterion("EXC-HSV-12W", Kind.EXCLUSION, attested=True)
def recent_symptomatic_hsv(ctx: Context) -> Finding:
    """"Symptomatic herpes herpes simplex infection within 12 weeks prior to inclusion"
    """
    return judged(ctx, "EXC-HSV-12W", None)


@criterion("EXC-THROMBOSIS-HX", Kind.EXCLUSION, attested=True)
def history_of_thrombosis(ctx: Context) -> Finding:
    """"History of thrombosis"
    """
    return judged(ctx, "EXC-THROMBOSIS-HX", None)


@criterion("EXC-VTE-RISK", Kind.EXCLUSION, attested=True)
def high_venous_thrombosis_risk(ctx: Context) -> Finding:
    """"or considered at high risk of venous thrombosis by the investigator"
    """
    return judged(ctx, "EXC-VTE-RISK", None)


@criterion("EXC-SEVERE-JDM", Kind.EXCLUSION, attested=True)
def severe_jdm_involvement(ctx: Context) -> Finding:
    """"Presence of severe JDM-related involvements: cardiovascular (requiring vasopressive drug and/or intensive care unit), respiratory (requiring oxygen and/or intensive care unit), gastrointestinal (requiring abdominal surgery)."
    """
    return judged(ctx, "EXC-SEVERE-JDM", None)


@criterion("EXC-SEVERE-OTHER", Kind.EXCLUSION, attested=True)
def severe_unrelated_illness(ctx: Context) -> Finding:
    """"History of severe non-related JDM involvement: cardiovascular, respiratory, hepatic, gastrointestinal, endocrine, hematological, neurological or neuropsychiatric disorders or any other serious and/or instable illness that, in the opinion of the investigator, could constitute an unacceptable risk, when taking baricitinib."
    """
    return judged(ctx, "EXC-SEVERE-OTHER", None)
