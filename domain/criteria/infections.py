"""Active infections: the umbrella criterion and the named pathogens.

Every test result counts only while fresh (``validity.hepatitis_hiv``, IGRA ``validity.igra``); the
newest result of a kind wins. Serologies are read from the lab's positive / negative / equivocal
answer, since cut-offs belong to each assay; a viral load above zero is a detection.
"""

from __future__ import annotations

from domain.wording import Figures, capitalised, said_as, term

from datetime import date

from domain.context import Context
from domain.criteria.base import (
    ForAttestation,
    attestation_decides,
    criterion,
    earliest,
    fails,
    passes,
    review,
    unknown,
)
from domain.criteria.passive import passive_antibodies_before
from domain.criteria.readings import latest_result
from domain.facts import Diagnosis, LabResult, Qualitative
from domain.verdicts import Finding, Kind

# How a result reads, once the lab's codes are reduced to what the rules need.
POSITIVE = "positive"
NEGATIVE = "negative"
EQUIVOCAL = "equivocal"
BELOW_LLOQ = "detected below the limit of quantification"
UNINTERPRETED = "a value without the lab's interpretation"
CONFLICTING = "a value that contradicts the lab's interpretation"
UNREADABLE = "a result in free text only"

_ENDED = frozenset({"inactive", "remission", "resolved"})
_BELOW = ("<", "<=")
_NEGATING = ("not ", "non ", "non-", "undetect", "neg", "nég", "absen")
_DETECTING = ("detect", "détect", "positi")


def serology(result: LabResult) -> str:
    """An antigen or antibody test: the lab's answer, or review when only a number came."""
    answer = result.qualitative
    if answer is Qualitative.POSITIVE:
        return POSITIVE
    if answer is Qualitative.NEGATIVE:
        return NEGATIVE
    if answer is Qualitative.EQUIVOCAL:
        return EQUIVOCAL
    return UNINTERPRETED if result.quantity is not None else UNREADABLE


def nucleic_acid(result: LabResult) -> str:
    """A PCR: detected, not detected, or detected but below the limit of quantification.

    A quantity with ``<`` is "not quantifiable", which is a detection only when the lab's answer or
    text says detected. Log-scale loads (``{Log_copies}/mL``) are detections at any value: log 0 is
    one copy.
    """
    answer = result.qualitative
    if answer is Qualitative.EQUIVOCAL:
        return EQUIVOCAL
    quantity = result.quantity
    if quantity is not None:
        if quantity.comparator in _BELOW:
            if answer is Qualitative.POSITIVE or _text_says_detected(result.text):
                return BELOW_LLOQ
            return NEGATIVE
        if quantity.value > 0 or "log" in quantity.unit.lower():
            return CONFLICTING if answer is Qualitative.NEGATIVE else POSITIVE
        return CONFLICTING if answer is Qualitative.POSITIVE else NEGATIVE
    if answer is Qualitative.POSITIVE:
        return POSITIVE
    if answer is Qualitative.NEGATIVE:
        return NEGATIVE
    if result.text:
        return POSITIVE if _text_says_detected(result.text) else UNREADABLE
    return UNREADABLE


def _text_says_detected(text: str | None) -> bool:
    if not text:
        return False
    lowered = text.lower()
    return any(word in lowered for word in _DETECTING) and not any(word in lowered for word in _NEGATING)


def still_active(dx: Diagnosis, as_of: date) -> bool:
    """Not abated by ``as_of`` and not recorded as inactive, in remission or resolved."""
    return (dx.abated is None or dx.abated > as_of) and dx.status not in _ENDED


def active_diagnosis(ctx: Context, code_list: str) -> Diagnosis | None:
    as_of = ctx.as_of
    for dx in ctx.all(code_list):
        if still_active(dx, as_of):
            return dx
    return None


def sentence(text):
    """A clause used as a sentence (a message keeps it as a message)."""
    return capitalised(text)


@criterion("EXC-INF-ACTIVE", Kind.EXCLUSION, attested=True)
def current_or_recent_active_infection(ctx: Context) -> Finding | ForAttestation:
    """"Current, or recent (< 4 weeks prior to baseline) of active infections"

    An infection diagnosis (``dx.infection``) still active fails; one that ended (abatement date, else
    onset date) within ``windows.active_infection`` days before ``as_of`` fails until that window ends.
    An anti-infective taken in the window asks for review; otherwise the investigator attests.
    """
    window = ctx.protocol.windows.active_infection
    as_of = ctx.as_of
    recent: Diagnosis | None = None
    recent_until: date | None = None
    for dx in ctx.all("dx.infection"):
        if still_active(dx, as_of):
            return fails(lambda: said_as('Infection diagnosis {code} since {on} is still active', code=_code(dx), on=dx.on), dx)
        ended = dx.abated or dx.on
        if ctx.within(ended, window):
            until = ctx.window_end(ended, window)
            if recent_until is None or until > recent_until:
                recent, recent_until = dx, until
    if recent is not None:
        ended = recent.abated or recent.on
        return fails(
            lambda: (said_as('Infection diagnosis {code} ended {ended}, {days} days before; the {window}-day window ends {recent_until}', code=_code(recent), ended=ended, days=ctx.days_before(ended), window=window, recent_until=recent_until)),
            recent,
            until=recent_until,
        )
    for med in ctx.all("med.anti_infective"):
        last = med.until if med.until is not None and med.until < as_of else as_of
        if ctx.within(last, window):
            taken = said_as('until {until}', until=med.until) if med.until is not None else said_as("with no end date")
            return attestation_decides(
                review(
                    said_as('Anti-infective {code} from {on} {taken}: is an infection active?', code=_code(med), on=med.on, taken=taken),
                    med,
                    changes_on=ctx.window_end(med.until, window) if med.until is not None else None,
                ),
            )
    return attestation_decides()


def _code(fact) -> str:
    return str(fact.codes[0]).upper() if fact.codes else "uncoded"


@criterion("EXC-INF-HBV", Kind.EXCLUSION)
def active_hepatitis_b(ctx: Context) -> Finding:
    """"... of active infections, including HBV"

    HBsAg positive, HBV DNA detected or an active HBV diagnosis fails. Anti-HBc positive with HBsAg
    negative is a resolved infection: review when HBV DNA is not detected, unknown until it is tested,
    and review when immunoglobulins may explain it (``domain/criteria/passive.py``, the one reading of
    every serology). HBsAg negative without a positive anti-HBc passes.
    """
    dx = active_diagnosis(ctx, "dx.hbv")
    if dx is not None:
        return fails(lambda: said_as('Active hepatitis B diagnosis {code} since {on}', code=_code(dx), on=dx.on), dx)
    validity = ctx.protocol.validity.hepatitis_hiv
    hbsag = latest_result(ctx, "lab.hbsag", "HBsAg", validity)
    dna = latest_result(ctx, "lab.hbv_dna", "HBV DNA", validity)
    core = latest_result(ctx, "lab.anti_hbc", "anti-HBc", validity)
    s = serology(hbsag.usable) if hbsag.usable else None
    d = nucleic_acid(dna.usable) if dna.usable else None
    if s == POSITIVE:
        return fails(lambda: said_as('{shown}', shown=hbsag.shown()), hbsag.usable, changes_on=hbsag.stale_on)
    if d in (POSITIVE, BELOW_LLOQ):
        return fails(lambda: said_as('{shown}: detected', shown=dna.shown()), dna.usable, changes_on=dna.stale_on)
    if s in (EQUIVOCAL, UNINTERPRETED, UNREADABLE):
        return review(lambda: said_as('{shown}: {reading}', shown=hbsag.shown(), reading=term(s)), hbsag.usable, changes_on=hbsag.stale_on)
    if d in (EQUIVOCAL, CONFLICTING, UNREADABLE):
        return review(lambda: said_as('{shown}: {reading}', shown=dna.shown(), reading=term(d)), dna.usable, changes_on=dna.stale_on)
    c = serology(core.usable) if core.usable else None
    if c is not None and c != NEGATIVE:
        sample = core.usable
        if c != POSITIVE:
            return review(lambda: said_as('{shown}: {reading}', shown=core.shown(), reading=term(c)), sample, changes_on=core.stale_on)
        passive = passive_antibodies_before(ctx, sample.on)
        if passive is not None:
            return review(
                lambda: (said_as('{shown}, {days} days after immunoglobulins ({code}) given until {last_day}: the antibodies may be passive', shown=core.shown(), days=passive.days_before(sample.on), code=_code(passive.exposure), last_day=passive.last_day)),
                sample,
                passive.exposure,
                changes_on=core.stale_on,
            )
        if s is None:
            return unknown(lambda: said_as('{shown}; HBsAg is needed: {missing}', shown=core.shown(), missing=hbsag.missing()), sample)
        if d is None:
            return unknown(lambda: said_as('{shown} with HBsAg negative; HBV DNA is needed: {missing}', shown=core.shown(), missing=dna.missing()), sample)
        return review(
            lambda: (said_as('{shown}, HBsAg negative, HBV DNA not detected on {on}: resolved hepatitis B, a person decides', shown=core.shown(), on=dna.usable.on)),
            sample,
            hbsag.usable,
            dna.usable,
            changes_on=earliest(core.stale_on, hbsag.stale_on, dna.stale_on),
        )
    if s == NEGATIVE:
        return passes(
            lambda: said_as('{shown}, no positive anti-HBc', shown=hbsag.shown()), hbsag.usable, core.usable, changes_on=hbsag.stale_on
        )
    return unknown(lambda: sentence(hbsag.missing()), hbsag.result)


@criterion("EXC-INF-HCV", Kind.EXCLUSION)
def active_hepatitis_c(ctx: Context) -> Finding:
    """"... of active infections, including ... HCV"

    HCV RNA detected or an active HCV diagnosis fails. HCV antibodies with RNA not detected (cleared
    or treated) need review; antibodies without an RNA test are unknown. Antibodies negative, or RNA
    not detected without an antibody test, pass.
    """
    dx = active_diagnosis(ctx, "dx.hcv")
    if dx is not None:
        return fails(lambda: said_as('Active hepatitis C diagnosis {code} since {on}', code=_code(dx), on=dx.on), dx)
    validity = ctx.protocol.validity.hepatitis_hiv
    antibody = latest_result(ctx, "lab.hcv_ab", "HCV antibody", validity)
    rna = latest_result(ctx, "lab.hcv_rna", "HCV RNA", validity)
    r = nucleic_acid(rna.usable) if rna.usable else None
    if r in (POSITIVE, BELOW_LLOQ):
        return fails(lambda: said_as('{shown}: detected', shown=rna.shown()), rna.usable, changes_on=rna.stale_on)
    if r in (EQUIVOCAL, CONFLICTING, UNREADABLE):
        return review(lambda: said_as('{shown}: {reading}', shown=rna.shown(), reading=term(r)), rna.usable, changes_on=rna.stale_on)
    a = serology(antibody.usable) if antibody.usable else None
    if a == POSITIVE:
        if r is None:
            return unknown(lambda: said_as('{shown}; HCV RNA is needed: {missing}', shown=antibody.shown(), missing=rna.missing()), antibody.usable)
        return review(
            lambda: (said_as('{shown}, HCV RNA not detected on {on}: cleared or treated hepatitis C, a person decides', shown=antibody.shown(), on=rna.usable.on)),
            antibody.usable,
            rna.usable,
            changes_on=earliest(antibody.stale_on, rna.stale_on),
        )
    if a in (EQUIVOCAL, UNINTERPRETED, UNREADABLE):
        return review(lambda: said_as('{shown}: {reading}', shown=antibody.shown(), reading=term(a)), antibody.usable, changes_on=antibody.stale_on)
    if a == NEGATIVE:
        return passes(lambda: antibody.shown(), antibody.usable, changes_on=antibody.stale_on)
    if r == NEGATIVE:
        return passes(lambda: said_as('{shown}: not detected', shown=rna.shown()), rna.usable, changes_on=rna.stale_on)
    return unknown(lambda: sentence(antibody.missing()), antibody.result)


@criterion("EXC-INF-HIV", Kind.EXCLUSION)
def hiv_infection(ctx: Context) -> Finding:
    """"... of active infections, including ... HIV"

    An HIV diagnosis, or a positive confirmatory test of any age (HIV infection is lifelong), fails.
    A reactive screen needs a confirmation: review until one is positive; a negative confirmation of a
    reactive screen needs review too. A negative screen passes.
    """
    dx = ctx.latest("dx.hiv")
    if dx is not None:
        return fails(lambda: said_as('HIV diagnosis {code} since {on}', code=_code(dx), on=dx.on), dx)
    validity = ctx.protocol.validity.hepatitis_hiv
    confirm = latest_result(ctx, "lab.hiv_confirmatory", "HIV confirmatory test", validity)
    latest = confirm.result
    if latest is not None and latest.qualitative is Qualitative.POSITIVE:
        return fails(lambda: said_as('HIV confirmatory test positive on {on}', on=latest.on), latest)
    screen = latest_result(ctx, "lab.hiv_screen", "HIV screen", validity)
    c = serology(confirm.usable) if confirm.usable else None
    if c is not None and c not in (NEGATIVE, POSITIVE):
        return review(lambda: said_as('{shown}: {reading}', shown=confirm.shown(), reading=term(c)), confirm.usable, changes_on=confirm.stale_on)
    s = serology(screen.usable) if screen.usable else None
    if s == POSITIVE:
        if c == NEGATIVE:
            return review(
                lambda: said_as('{shown} but {shown2}: a person decides', shown=screen.shown(), shown2=confirm.shown()),
                screen.usable,
                confirm.usable,
                changes_on=earliest(screen.stale_on, confirm.stale_on),
            )
        return review(lambda: said_as('{shown}, not confirmed', shown=screen.shown()), screen.usable, changes_on=screen.stale_on)
    if s in (EQUIVOCAL, UNINTERPRETED, UNREADABLE):
        return review(lambda: said_as('{shown}: {reading}', shown=screen.shown(), reading=term(s)), screen.usable, changes_on=screen.stale_on)
    if s == NEGATIVE:
        return passes(lambda: screen.shown(), screen.usable, changes_on=screen.stale_on)
    if c == NEGATIVE:
        return passes(lambda: confirm.shown(), confirm.usable, changes_on=confirm.stale_on)
    return unknown(lambda: sentence(screen.missing()), screen.result)


@criterion("EXC-INF-TB", Kind.EXCLUSION)
def active_tuberculosis(ctx: Context) -> Finding:
    """"... of active infections, including ... tuberculosis"

    An active tuberculosis diagnosis fails. Latent tuberculosis (a positive IGRA, or a latent TB
    diagnosis) must be treated before baricitinib, so it needs review, as do an indeterminate IGRA and
    a past, ended tuberculosis. A negative IGRA within ``validity.igra`` days passes.
    """
    as_of = ctx.as_of
    past = None
    for dx in ctx.all("dx.tb_active"):
        if still_active(dx, as_of):
            return fails(lambda: said_as('Active tuberculosis diagnosis {code} since {on}', code=_code(dx), on=dx.on), dx)
        past = past or dx
    latent = active_diagnosis(ctx, "dx.tb_latent")
    if latent is not None:
        return review(lambda: said_as('Latent tuberculosis diagnosis {code} since {on}', code=_code(latent), on=latent.on), latent)
    igra = latest_result(ctx, "lab.igra", "IGRA", ctx.protocol.validity.igra)
    if past is not None:
        ended = past.abated or past.on
        return review(lambda: said_as('Past tuberculosis {code}, ended {ended}', code=_code(past), ended=ended), past, igra.usable)
    i = serology(igra.usable) if igra.usable else None
    if i == POSITIVE:
        return review(
            lambda: said_as('{shown}: latent tuberculosis to treat first', shown=igra.shown()), igra.usable, changes_on=igra.stale_on
        )
    if i == NEGATIVE:
        return passes(lambda: igra.shown(), igra.usable, changes_on=igra.stale_on)
    if i is not None:
        return review(lambda: said_as('{shown}: {reading}', shown=igra.shown(), reading=term(i)), igra.usable, changes_on=igra.stale_on)
    return unknown(lambda: sentence(igra.missing()), igra.result)
