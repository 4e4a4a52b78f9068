"""Criteria for girls after menarche: pregnancy test, contraception, pregnancy and breastfeeding.

All three apply to females after menarche (contract §1). Male sex, a recorded pre-menarche, or a
girl younger than ``age.menarche_presumed_absent_below_years`` whose menarche is not recorded make
them pass as not applicable; an older girl whose menarche is not recorded makes them unknown.
"""

from __future__ import annotations

from domain.wording import Figures, capitalised, joined, said_as, term

from datetime import date

from domain.context import Context, add_years
from domain.criteria.base import (
    ForAttestation,
    attestation_decides,
    criterion,
    fails,
    passes,
    review,
    unknown,
)
from domain.criteria.readings import Reading, latest_result
from domain.facts import Assessment, Diagnosis, Qualitative, Sex
from domain.thresholds import allowed, below
from domain.verdicts import Finding, Kind, Verdict

_ENDED = frozenset({"inactive", "remission", "resolved"})


def _not_applicable_or_unknown(ctx: Context) -> Finding | None:
    """None when the criterion applies (a female after menarche), else the pass or unknown."""
    profile = ctx.profile
    sex = profile.sex if profile is not None else Sex.UNKNOWN
    if sex is Sex.MALE:
        return passes(said_as("Not applicable: male"))
    if sex is not Sex.FEMALE:
        return unknown(lambda: said_as('Sex is recorded as {value}: cannot tell whether this applies', value=sex.value))
    menarche = _menarche(ctx)
    if menarche is not None:
        if menarche.flag:
            return None
        return passes(lambda: said_as('Not applicable: before menarche, as recorded on {on}', on=menarche.on), menarche)
    presumed_below = ctx.protocol.age.menarche_presumed_absent_below_years
    age = ctx.age()
    if age is None:
        return unknown(said_as("Menarche not recorded and no birth date to tell whether it is expected"))
    if age < presumed_below:
        birthday = add_years(profile.birth_date, presumed_below)  # type: ignore[union-attr, arg-type]
        return passes(
            lambda: said_as('Not applicable: aged {age}, under {presumed_below}, menarche not recorded', age=age, presumed_below=presumed_below),
            changes_on=birthday,
        )
    return unknown(lambda: said_as('Aged {age} with menarche not recorded', age=age))


def _menarche(ctx: Context) -> Assessment | None:
    for fact in ctx.all("assessment.menarche"):
        if fact.flag is not None:
            return fact
    return None


def _hcg_answer(ctx: Context, reading: Reading) -> Qualitative | None:
    """Negative, positive or equivocal; None when the lab's answer and the value disagree.

    A value below ``hcg_negative_below_iu_l`` is negative, from ``hcg_positive_from_iu_l`` positive,
    and in between (or a comparator that straddles a limit) equivocal.
    """
    answer = reading.result.qualitative
    if reading.value is None:
        return answer
    limits = ctx.protocol.thresholds
    value, comparator = reading.value, reading.comparator
    if below(value, comparator, limits.hcg_negative_below_iu_l) is True:
        measured = Qualitative.NEGATIVE
    elif below(value, comparator, limits.hcg_positive_from_iu_l) is False:
        measured = Qualitative.POSITIVE
    else:
        measured = Qualitative.EQUIVOCAL
    if answer is not None and answer is not measured:
        return None
    return measured


def _hcg(ctx: Context) -> Reading | Finding:
    return latest_result(ctx, "lab.hcg", "βhCG", ctx.protocol.validity.hcg).measured("hcg")


def _hcg_shown(reading: Reading) -> str:
    result = reading.result
    value = said_as(' ({shown})', shown=reading.shown('IU/L')) if reading.value is not None else ""
    return said_as('βhCG{value} on {on}', value=value, on=result.on)


@criterion("INC-WOCBP-HCG", Kind.INCLUSION)
def negative_bhcg_after_menarche(ctx: Context) -> Finding:
    """"For patients of childbearing age (following menarche) : Negative βHCG"

    The latest βhCG within its validity (``validity.hcg``), by the lab's answer or its value in IU/L
    (mIU/mL is the same): below ``hcg_negative_below_iu_l`` negative, from ``hcg_positive_from_iu_l``
    positive; a value in between, an equivocal answer or an answer that contradicts the value needs review.
    """
    skip = _not_applicable_or_unknown(ctx)
    if skip is not None:
        return skip
    reading = _hcg(ctx)
    if not isinstance(reading, Reading):
        return reading
    shown, result = _hcg_shown(reading), reading.result
    answer = _hcg_answer(ctx, reading)
    if answer is Qualitative.NEGATIVE:
        return passes(lambda: said_as('Negative {shown}', shown=shown), result, changes_on=reading.stale_on)
    if answer is Qualitative.POSITIVE:
        return fails(lambda: said_as('Positive {shown}', shown=shown), result, changes_on=reading.stale_on)
    if answer is None:
        return review(lambda: said_as("{shown}: the lab's {qualitative} answer contradicts the value", shown=shown, qualitative=term(result.qualitative.value)), result)
    if reading.comparator:
        limits = ctx.protocol.thresholds
        return review(
            lambda: (said_as('Equivocal {shown}: the result allows {allowed}, neither all below {hcg_negative_below_iu_l} IU/L nor all from {hcg_positive_from_iu_l} IU/L: repeat or judge the test', shown=shown, allowed=allowed(reading.comparator, said_as('{value} IU/L', value=Figures(f'{reading.value:g}'))), hcg_negative_below_iu_l=Figures(f'{limits.hcg_negative_below_iu_l:g}'), hcg_positive_from_iu_l=Figures(f'{limits.hcg_positive_from_iu_l:g}'))),
            result,
        )
    return review(lambda: said_as('Equivocal {shown}: repeat or judge the test', shown=shown), result)


@criterion("INC-WOCBP-CONTRACEPTION", Kind.INCLUSION, attested=True)
def effective_contraception_after_menarche(ctx: Context) -> Finding | ForAttestation:
    """"For patients of childbearing age (following menarche) : ... effective method of contraception (sexual abstinence, hormonal contraception, intrauterine device or hormone-releasing system, cap, diaphragm or sponge with spermicide, condom) until the 7 days after administration of the last dose of Baricitinib"

    The method and the commitment to keep it are attested by the investigator. An estrogen-containing
    contraceptive in the medication list is an allowed method: its thrombosis risk belongs to EXC-VTE-RISK.
    """
    skip = _not_applicable_or_unknown(ctx)
    if skip is not None:
        return skip
    return attestation_decides()


@criterion("EXC-PREG-BF", Kind.EXCLUSION, attested=True)
def pregnant_or_breastfeeding(ctx: Context) -> Finding | ForAttestation:
    """"Actual or in project of pregrancy and breast-feeding until the 7 days after administration of the last dose of Baricitinib"

    A fresh positive βhCG, a fresh pregnancy or breastfeeding status answered yes, or a pregnancy or
    breastfeeding diagnosis that has not ended excludes; such records count for any patient not male,
    since they show the criterion applies. Plans cannot be read from data, so passing needs an attestation.
    """
    found = _pregnancy_or_breastfeeding_on_record(ctx)
    sex = ctx.profile.sex if ctx.profile is not None else Sex.UNKNOWN
    if found is not None and found.verdict is Verdict.FAIL and sex is not Sex.MALE:
        return found
    skip = _not_applicable_or_unknown(ctx)
    if skip is not None:
        return skip
    return attestation_decides(found)


def _pregnancy_or_breastfeeding_on_record(ctx: Context) -> Finding | None:
    """A fail listing every sign of pregnancy or breastfeeding, a review for an equivocal one, or None."""
    signs: list[tuple[str, object, date | None]] = []
    doubts: list[tuple[str, object]] = []
    reading = _hcg(ctx)
    if isinstance(reading, Reading):
        answer = _hcg_answer(ctx, reading)
        if answer is Qualitative.POSITIVE:
            signs.append((said_as('positive {hcg_shown}', hcg_shown=_hcg_shown(reading)), reading.result, reading.stale_on))
        elif answer is not Qualitative.NEGATIVE:
            doubts.append((said_as('{hcg_shown} is neither clearly negative nor positive', hcg_shown=_hcg_shown(reading)), reading.result))
    validity = ctx.protocol.validity
    for code_list, label, days in (
        ("obs.pregnancy_status", "pregnant", validity.pregnancy_status),
        ("obs.breastfeeding_status", "breastfeeding", validity.breastfeeding_status),
    ):
        found = latest_result(ctx, code_list, label, days)
        status = found.usable
        if status is None:
            continue
        if status.qualitative is Qualitative.POSITIVE:
            signs.append((said_as('recorded as {label} on {on}', label=term(label), on=status.on), status, found.stale_on))
        elif status.qualitative is Qualitative.EQUIVOCAL:
            doubts.append((said_as('{label} status uncertain on {on}', label=term(label), on=status.on), status))
    for code_list, label in (("dx.pregnancy", "pregnancy"), ("dx.breastfeeding", "breastfeeding")):
        for dx in ctx.all(code_list):
            if _ongoing(ctx, dx):
                signs.append((said_as('{label} diagnosis ({codes}) since {on}', label=term(label), codes=dx.codes[0], on=dx.on), dx, dx.abated))
                break
    if signs:
        ends = [end for _, _, end in signs]
        changes_on = None if None in ends else max(ends)  # type: ignore[type-var]
        reason = capitalised(joined(text for text, _, _ in signs))
        return fails(lambda: reason, *(fact for _, fact, _ in signs), changes_on=changes_on)
    if doubts:
        reason = capitalised(joined(text for text, _ in doubts))
        return review(lambda: reason, *(fact for _, fact in doubts))
    return None


def _ongoing(ctx: Context, dx: Diagnosis) -> bool:
    if dx.status in _ENDED:
        return False
    return dx.abated is None or dx.abated > ctx.as_of
