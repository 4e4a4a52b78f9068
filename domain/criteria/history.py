"""Exclusions from the child's history: disease form, cancer, vaccines, HSV, thrombosis, severity (previous
treatments: medications.py)."""

from __future__ import annotations

from domain.wording import Figures, said_as, term

from datetime import date, timedelta

from domain.context import Context
from domain.criteria.base import ForAttestation, attestation_decides, criterion, fails, review
from domain.criteria.coded import (
    CURRENT_STATUSES,
    and_more,
    days_in_words,
    is_current,
    matched_code,
    put_to_review,
    taken,
)
from domain.facts import Diagnosis, Vaccination
from domain.verdicts import Finding, Kind


# -- disease form -------------------------------------------------------------------------------


@criterion("EXC-AMYOPATHIC", Kind.EXCLUSION, attested=True)
def amyopathic_dermatomyositis(ctx: Context) -> Finding | ForAttestation:
    """"Amyopathic dermatomyositis (without muscle weakness)"

    A current amyopathic dermatomyositis diagnosis (``dx.amyopathic``) excludes; one recorded as
    resolved, inactive or abated needs review of the present classification. Otherwise the
    investigator's classification decides.
    """
    found = ctx.all("dx.amyopathic")
    current = [d for d in found if is_current(ctx, d)]
    if current:
        first = current[0]
        return fails(
            lambda: (said_as('Amyopathic dermatomyositis recorded ({code}, onset {on}){more}', code=matched_code(ctx, 'dx.amyopathic', first), on=first.on, more=and_more(current))),
            *current,
        )
    if found:
        last = found[0]
        return attestation_decides(
            review(
                said_as('Amyopathic dermatomyositis ({code}, onset {on}) is recorded as no longer current: check the present classification', code=matched_code(ctx, 'dx.amyopathic', last), on=last.on),
                *found,
            ),
        )
    return attestation_decides()


@criterion("EXC-ORAL", Kind.EXCLUSION, attested=True)
def cannot_take_oral_treatment(ctx: Context) -> Finding | ForAttestation:
    """"Inability to be treated by oral way or to take pills"

    Only the investigator can say a child cannot take tablets; a current dysphagia diagnosis
    (``dx.dysphagia``) is a signal that asks for that judgement.
    """
    current = [d for d in ctx.all("dx.dysphagia") if is_current(ctx, d)]
    if current:
        first = current[0]
        return attestation_decides(
            review(
                said_as('Dysphagia recorded ({code}, onset {on}): check the child can take oral treatment', code=matched_code(ctx, 'dx.dysphagia', first), on=first.on),
                *current,
            ),
        )
    return attestation_decides()


# -- cancer, vaccines ----------------------------------------------------------------------------


@criterion("EXC-CANCER-HX", Kind.EXCLUSION, attested=True)
def history_of_cancer(ctx: Context) -> Finding | ForAttestation:
    """"Previous history of cancer"

    Any malignancy ever recorded (``dx.cancer``), in remission or not, excludes. Borderline entities
    (``dx.cancer_borderline``: uncertain behaviour, Langerhans cell histiocytosis) need review, even
    where their code also falls in the malignant range.
    """
    borderline_set = ctx.protocol.codesets["dx.cancer_borderline"]
    cancers = [d for d in ctx.all("dx.cancer") if borderline_set.matches(d.codes) is None]
    if cancers:
        last = cancers[0]
        return fails(
            lambda: said_as('Cancer recorded ({code}, onset {on}){more}', code=matched_code(ctx, 'dx.cancer', last), on=last.on, more=and_more(cancers)),
            *cancers,
        )
    borderline = ctx.all("dx.cancer_borderline")
    if borderline:
        last = borderline[0]
        return attestation_decides(
            review(
                said_as('Tumour of uncertain or borderline behaviour recorded ({code}, onset {on}){more}: check whether it counts as cancer', code=matched_code(ctx, 'dx.cancer_borderline', last), on=last.on, more=and_more(borderline)),
                *borderline,
            ),
        )
    return attestation_decides()


@criterion("EXC-LIVE-VACCINE", Kind.EXCLUSION, attested=True)
def recent_live_vaccine(ctx: Context) -> Finding | ForAttestation:
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
            lambda: (said_as('Live vaccine ({code}) on {on}, {days} before; the {window}-day window ends {until}', code=_vaccine_code(last), on=last.on, days=days_in_words(ctx.days_before(last.on)), window=window, until=until)),
            *live,
            until=until,
        )
    maybe = [v for v in ctx.all("vax.maybe_live") if ctx.within(v.on, window)]
    if maybe:
        last = maybe[0]
        return attestation_decides(
            review(
                said_as('Vaccine {code} on {on} may be live: check the product', code=_vaccine_code(last), on=last.on),
                *maybe,
                changes_on=ctx.window_end(last.on, window),
            ),
        )
    return attestation_decides()


def _vaccine_code(vaccine: Vaccination) -> str:
    return ", ".join(f"{c.system.upper()} {c.code}" for c in vaccine.codes[:1]) or "uncoded"


# -- infections, thrombosis, severity ------------------------------------------------------------


@criterion("EXC-HSV-12W", Kind.EXCLUSION, attested=True)
def recent_symptomatic_hsv(ctx: Context) -> Finding | ForAttestation:
    """"Symptomatic herpes herpes simplex infection within 12 weeks prior to inclusion"

    An HSV episode (``dx.hsv``) whose last symptomatic day (abatement date, else onset) is within 84
    days before ``as_of`` excludes until 85 days after that day. An episode still recorded as active
    with no abatement date has no last day yet, so it excludes with no end date. An HSV antiviral
    started within the window without such an episode needs review.
    """
    window = ctx.protocol.windows.symptomatic_hsv
    start = ctx.as_of - timedelta(days=window)
    ongoing: list[Diagnosis] = []
    recent: list[tuple[Diagnosis, date]] = []
    for d in ctx.all("dx.hsv"):
        if d.abated is None and d.status in CURRENT_STATUSES:
            ongoing.append(d)
            continue
        last_day = d.abated or d.on
        if last_day >= start:
            recent.append((d, last_day))
    if ongoing:
        first = ongoing[0]
        return fails(
            lambda: (said_as('HSV episode ({code}) from {on} is still recorded as {status} with no abatement date; it excludes until {window} days after it ends', code=matched_code(ctx, 'dx.hsv', first), on=first.on, status=term(first.status), window=window)),
            *ongoing,
        )
    if recent:
        episode, last_day = max(recent, key=lambda pair: pair[1])
        until = ctx.window_end(last_day, window)
        which = "abated" if episode.abated is not None else "onset"
        return fails(
            lambda: (said_as('Symptomatic HSV ({code}), {which} {last_day}; the {window}-day window ends {until}', code=matched_code(ctx, 'dx.hsv', episode), which=term(which), last_day=last_day, window=window, until=until)),
            *(d for d, _ in recent),
            until=until,
        )
    antivirals = [m for m in taken(ctx, "med.hsv_antiviral") if ctx.within(m.on, window)]
    if antivirals:
        last = antivirals[0]
        return attestation_decides(
            review(
                said_as('HSV antiviral {code} started {on} with no HSV episode recorded: check for a symptomatic HSV infection', code=matched_code(ctx, 'med.hsv_antiviral', last), on=last.on),
                *antivirals,
                changes_on=ctx.window_end(last.on, window),
            ),
        )
    return attestation_decides()


@criterion("EXC-THROMBOSIS-HX", Kind.EXCLUSION, attested=True)
def history_of_thrombosis(ctx: Context) -> Finding | ForAttestation:
    """"History of thrombosis"

    Any venous or arterial thrombosis ever recorded (``dx.thrombosis``) excludes; otherwise the
    investigator confirms the history.
    """
    events = ctx.all("dx.thrombosis")
    if events:
        last = events[0]
        return fails(
            lambda: (said_as('Thrombosis recorded ({code}, onset {on}){more}', code=matched_code(ctx, 'dx.thrombosis', last), on=last.on, more=and_more(events))),
            *events,
        )
    return attestation_decides()


@criterion("EXC-VTE-RISK", Kind.EXCLUSION, attested=True)
def high_venous_thrombosis_risk(ctx: Context) -> Finding | ForAttestation:
    """"or considered at high risk of venous thrombosis by the investigator"

    The investigator's judgement. A thrombophilia diagnosis or a current estrogen-containing
    contraceptive (a VTE risk factor in the baricitinib label) is put to that judgement as review.
    """
    signals = [
        review(said_as('Thrombophilia recorded ({code}, onset {on})', code=matched_code(ctx, 'dx.thrombophilia', d), on=d.on), d)
        for d in ctx.all("dx.thrombophilia")
    ] + [
        review(
            said_as('Estrogen-containing contraceptive {code} since {on}', code=matched_code(ctx, 'med.estrogen_contraceptive', m), on=m.on),
            m,
        )
        for m in taken(ctx, "med.estrogen_contraceptive")
        if m.until is None or m.until >= ctx.as_of
    ]
    return attestation_decides(put_to_review(signals, "check the venous thrombosis risk"))


@criterion("EXC-SEVERE-JDM", Kind.EXCLUSION, attested=True)
def severe_jdm_involvement(ctx: Context) -> Finding | ForAttestation:
    """"Presence of severe JDM-related involvements: cardiovascular (requiring vasopressive drug and/or intensive care unit), respiratory (requiring oxygen and/or intensive care unit), gastrointestinal (requiring abdominal surgery)."

    The investigator attests it. Diagnoses that signal severe involvement (``dx.severe_jdm_signal``:
    myocarditis, heart failure, shock, interstitial lung disease, respiratory failure, gut
    vasculopathy), current or past, and any vasopressor (``med.vasopressor``) are put to review.
    """
    signals = [
        review(
            said_as('{code} recorded ({value}, onset {on})', code=matched_code(ctx, 'dx.severe_jdm_signal', d), value='current' if is_current(ctx, d) else 'past', on=d.on),
            d,
        )
        for d in ctx.all("dx.severe_jdm_signal")
    ]
    if "med.vasopressor" in ctx.protocol.codesets:
        signals += [
            review(said_as('Vasopressor {code} started {on}', code=matched_code(ctx, 'med.vasopressor', m), on=m.on), m)
            for m in taken(ctx, "med.vasopressor")
        ]
    return attestation_decides(put_to_review(signals, "check for severe JDM involvement"))


@criterion("EXC-SEVERE-OTHER", Kind.EXCLUSION, attested=True)
def severe_unrelated_illness(ctx: Context) -> Finding | ForAttestation:
    """"History of severe non-related JDM involvement: cardiovascular, respiratory, hepatic, gastrointestinal, endocrine, hematological, neurological or neuropsychiatric disorders or any other serious and/or instable illness that, in the opinion of the investigator, could constitute an unacceptable risk, when taking baricitinib."

    The investigator's opinion alone.
    """
    return attestation_decides()
