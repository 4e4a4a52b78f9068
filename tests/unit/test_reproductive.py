"""INC-WOCBP-HCG, INC-WOCBP-CONTRACEPTION and EXC-PREG-BF: who they apply to, and hCG boundaries."""

from datetime import date, timedelta

import pytest

from config.protocol_files import load_protocol
from domain.context import Context
from domain.criteria import REGISTRY
from domain.facts import PatientProfile, Qualitative, Sex
from domain.record import PatientRecord
from tests.builders import (
    AS_OF,
    attest,
    child,
    criterion,
    days_before,
    diagnosis,
    lab,
    medicine,
    score,
    screen,
    verdict,
)
from tests.builders import (
    finding as build_finding,
)

POS, NEG, EQU = Qualitative.POSITIVE, Qualitative.NEGATIVE, Qualitative.EQUIVOCAL
HCG, SERUM_HCG_QUANT = "2106-3", "21198-7"
PREGNANCY_STATUS, BREASTFEEDING_STATUS = "82810-3", "63895-7"
ALL_THREE = ("INC-WOCBP-HCG", "INC-WOCBP-CONTRACEPTION", "EXC-PREG-BF")

GIRL = child(14, sex=Sex.FEMALE)
BOY = child(14, sex=Sex.MALE)


def after_menarche(on=days_before(100)):
    return score("menarche", flag=True, on=on)


def finding(cid, facts=(), *, profile=GIRL, as_of=AS_OF):
    return build_finding(cid, facts, profile=profile, as_of=as_of)


def all_passing_for_a_woman(on=AS_OF):
    return [after_menarche(), lab(HCG, answer=NEG, on=on),
            attest("INC-WOCBP-CONTRACEPTION"), attest("EXC-PREG-BF")]


# Who the three criteria apply to


@pytest.mark.parametrize("cid", ALL_THREE)
def test_they_do_not_apply_to_a_boy(cid):
    result = criterion(screen([], profile=BOY), cid)
    assert result.verdict.value == "pass"
    assert "Not applicable" in result.reason


@pytest.mark.parametrize("cid", ALL_THREE)
def test_they_do_not_apply_to_a_girl_recorded_before_menarche(cid):
    assert verdict(cid, [score("menarche", flag=False, on=days_before(200))], profile=GIRL) == "pass"


@pytest.mark.parametrize("cid", ALL_THREE)
@pytest.mark.parametrize(
    ("as_of", "expected"), [(date(2026, 11, 30), "pass"), (date(2026, 12, 1), "unknown")]
)
def test_an_unrecorded_menarche_is_presumed_absent_until_the_eighth_birthday(cid, as_of, expected):
    profile = child(birth=date(2018, 12, 1), sex=Sex.FEMALE)
    assert verdict(cid, [], profile=profile, as_of=as_of) == expected


@pytest.mark.parametrize("cid", ALL_THREE)
def test_the_presumption_ends_on_the_eighth_birthday(cid):
    profile = child(birth=date(2018, 12, 1), sex=Sex.FEMALE)
    protocol = load_protocol()
    record = PatientRecord.build("p-test", profile, [], protocol)
    found = REGISTRY[cid].rule(Context(record, protocol, date(2026, 11, 30)))
    assert found.changes_on == date(2026, 12, 1)


def test_a_girl_born_on_29_february_turns_eight_on_29_february_eight_years_later():
    profile = child(birth=date(2016, 2, 29), sex=Sex.FEMALE)
    assert finding("INC-WOCBP-HCG", profile=profile, as_of=date(2024, 2, 28)).changes_on == date(2024, 2, 29)
    assert verdict("INC-WOCBP-HCG", profile=profile, as_of=date(2024, 2, 29)) == "unknown"


@pytest.mark.parametrize("cid", ALL_THREE)
@pytest.mark.parametrize("sex", [Sex.UNKNOWN, Sex.OTHER])
def test_they_are_unknown_when_sex_is_not_recorded_as_male_or_female(cid, sex):
    assert verdict(cid, [after_menarche()], profile=child(14, sex=sex)) == "unknown"


@pytest.mark.parametrize("cid", ALL_THREE)
def test_they_are_unknown_for_a_girl_without_birth_date_or_menarche(cid):
    assert verdict(cid, [], profile=PatientProfile(None, Sex.FEMALE)) == "unknown"


@pytest.mark.parametrize("cid", ALL_THREE)
def test_they_apply_after_menarche_and_pass_with_the_data_and_attestations(cid):
    assert verdict(cid, all_passing_for_a_woman(), profile=GIRL) == "pass"


def test_a_recorded_menarche_applies_even_under_eight():
    assert verdict("INC-WOCBP-HCG", [after_menarche()], profile=child(7, sex=Sex.FEMALE)) == "unknown"


def test_the_latest_menarche_record_wins():
    facts = [score("menarche", flag=False, on=days_before(400)),
             score("menarche", flag=True, on=days_before(10))]
    assert verdict("INC-WOCBP-HCG", facts, profile=GIRL) == "unknown"


# INC-WOCBP-HCG


def test_no_hcg_after_menarche_is_unknown():
    assert verdict("INC-WOCBP-HCG", [after_menarche()], profile=GIRL) == "unknown"


@pytest.mark.parametrize(("answer", "expected"), [(NEG, "pass"), (POS, "fail"), (EQU, "review")])
def test_hcg_by_the_lab_answer(answer, expected):
    assert verdict("INC-WOCBP-HCG", [after_menarche(), lab(HCG, answer=answer)], profile=GIRL) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0, "[IU]/L", "pass"), (4.9, "[IU]/L", "pass"), (5, "[IU]/L", "review"), (24.9, "[IU]/L", "review"),
        (25, "[IU]/L", "fail"), (1000, "[IU]/L", "fail"),
        (4.9, "m[IU]/mL", "pass"), (5, "m[IU]/mL", "review"), (25, "m[IU]/mL", "fail"),
        (4.9, "mIU/mL", "pass"), (25, "IU/L", "fail"),
        (0.0049, "[IU]/mL", "pass"), (0.005, "[IU]/mL", "review"), (0.025, "[IU]/mL", "fail"),
    ],
)
def test_quantitative_hcg_thresholds_in_every_unit(value, unit, expected):
    facts = [after_menarche(), lab(SERUM_HCG_QUANT, value, unit)]
    assert verdict("INC-WOCBP-HCG", facts, profile=GIRL) == expected


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [("<", 5, "pass"), ("<=", 5, "review"), ("<", 10, "review"), (">", 25, "fail"), (">", 20, "review"),
     (">", 4, "review")],
)
def test_hcg_comparators_decide_only_when_the_whole_range_is_on_one_side(comparator, value, expected):
    result = lab(SERUM_HCG_QUANT, value, "[IU]/L", comparator=comparator)
    assert verdict("INC-WOCBP-HCG", [after_menarche(), result], profile=GIRL) == expected


@pytest.mark.parametrize(("answer", "value"), [(NEG, 30), (POS, 2), (NEG, 10)])
def test_a_lab_answer_that_contradicts_the_value_needs_review(answer, value):
    result = lab(SERUM_HCG_QUANT, value, "[IU]/L", answer=answer)
    assert verdict("INC-WOCBP-HCG", [after_menarche(), result], profile=GIRL) == "review"


def test_a_lab_answer_that_agrees_with_the_value_is_followed():
    result = lab(SERUM_HCG_QUANT, 2, "[IU]/L", answer=NEG)
    assert verdict("INC-WOCBP-HCG", [after_menarche(), result], profile=GIRL) == "pass"


def test_hcg_in_an_unknown_unit_is_unknown_and_names_the_unit():
    facts = [after_menarche(), lab(SERUM_HCG_QUANT, 3, "ng/mL")]
    result = criterion(screen(facts, profile=GIRL), "INC-WOCBP-HCG")
    assert result.verdict.value == "unknown"
    assert "ng/mL" in result.reason


@pytest.mark.parametrize(("age_days", "expected"), [(0, "pass"), (3, "pass"), (4, "unknown")])
def test_a_negative_hcg_is_usable_for_3_days(age_days, expected):
    facts = [after_menarche(), lab(HCG, answer=NEG, on=days_before(age_days))]
    assert verdict("INC-WOCBP-HCG", facts, profile=GIRL) == expected


def test_a_negative_hcg_pass_changes_when_it_goes_stale():
    found = finding("INC-WOCBP-HCG", [after_menarche(), lab(HCG, answer=NEG, on=days_before(1))])
    assert found.changes_on == days_before(1) + timedelta(days=4)


def test_a_stale_hcg_says_so():
    result = criterion(screen([after_menarche(), lab(HCG, answer=NEG, on=days_before(4))], profile=GIRL),
                       "INC-WOCBP-HCG")
    assert "stale" in result.reason


@pytest.mark.parametrize(("age_days", "expected"), [(3, "fail"), (4, "unknown")])
def test_a_positive_hcg_fails_while_fresh_without_until(age_days, expected):
    facts = [after_menarche(), lab(HCG, answer=POS, on=days_before(age_days))]
    result = criterion(screen(facts, profile=GIRL), "INC-WOCBP-HCG")
    assert (result.verdict.value, result.until) == (expected, None)


def test_the_latest_hcg_wins():
    facts = [after_menarche(), lab(HCG, answer=POS, on=days_before(2)),
             lab(HCG, answer=NEG, on=days_before(1))]
    assert verdict("INC-WOCBP-HCG", facts, profile=GIRL) == "pass"


def test_a_cancelled_hcg_is_ignored():
    facts = [after_menarche(), lab(HCG, answer=NEG, on=days_before(1)),
             lab(HCG, answer=POS, status="cancelled")]
    assert verdict("INC-WOCBP-HCG", facts, profile=GIRL) == "pass"


# INC-WOCBP-CONTRACEPTION


def test_contraception_after_menarche_needs_an_attestation():
    assert verdict("INC-WOCBP-CONTRACEPTION", [after_menarche()], profile=GIRL) == "unknown"


@pytest.mark.parametrize(("verdict_attested", "expected"), [("pass", "pass"), ("fail", "fail")])
def test_contraception_follows_the_attestation(verdict_attested, expected):
    facts = [after_menarche(), attest("INC-WOCBP-CONTRACEPTION", verdict_attested)]
    assert verdict("INC-WOCBP-CONTRACEPTION", facts, profile=GIRL) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_a_contraception_attestation_is_usable_for_28_days(age_days, expected):
    facts = [after_menarche(), attest("INC-WOCBP-CONTRACEPTION", on=days_before(age_days))]
    assert verdict("INC-WOCBP-CONTRACEPTION", facts, profile=GIRL) == expected


def test_an_estrogen_contraceptive_does_not_fail_contraception():
    facts = [after_menarche(), medicine("G03AA07", on=days_before(60)), attest("INC-WOCBP-CONTRACEPTION")]
    assert verdict("INC-WOCBP-CONTRACEPTION", facts, profile=GIRL) == "pass"


# EXC-PREG-BF


def test_pregnancy_and_breastfeeding_need_an_attestation_even_with_a_negative_test():
    facts = [after_menarche(), lab(HCG, answer=NEG), lab(PREGNANCY_STATUS, answer=NEG)]
    assert verdict("EXC-PREG-BF", facts, profile=GIRL) == "unknown"


@pytest.mark.parametrize(
    "sign",
    [
        lambda: lab(HCG, answer=POS),
        lambda: lab(SERUM_HCG_QUANT, 25, "m[IU]/mL"),
        lambda: lab(PREGNANCY_STATUS, answer=POS),
        lambda: lab(BREASTFEEDING_STATUS, answer=POS),
        lambda: diagnosis("Z33", on=days_before(60)),
        lambda: diagnosis("O26.8", on=days_before(60)),
        lambda: diagnosis("77386006", system="snomed", on=days_before(60)),
        lambda: diagnosis("Z39.1", on=days_before(60)),
        lambda: diagnosis("413712001", system="snomed", on=days_before(60)),
    ],
)
def test_recorded_pregnancy_or_breastfeeding_excludes_despite_an_attestation(sign):
    result = criterion(screen([after_menarche(), sign(), attest("EXC-PREG-BF")], profile=GIRL), "EXC-PREG-BF")
    assert (result.verdict.value, result.until) == ("fail", None)


@pytest.mark.parametrize(
    "sign",
    [
        lambda: lab(HCG, answer=POS, on=days_before(4)),
        lambda: lab(PREGNANCY_STATUS, answer=POS, on=days_before(4)),
        lambda: lab(BREASTFEEDING_STATUS, answer=POS, on=days_before(29)),
        lambda: diagnosis("Z33", on=days_before(300), abated=days_before(30)),
        lambda: diagnosis("Z33", on=days_before(300), status="resolved"),
        lambda: diagnosis("Z39.1", on=days_before(300), abated=AS_OF),
        lambda: lab(PREGNANCY_STATUS, answer=NEG),
        lambda: lab(BREASTFEEDING_STATUS, answer=NEG),
    ],
)
def test_stale_ended_or_negative_signs_leave_it_to_the_attestation(sign):
    facts = [after_menarche(), sign()]
    assert verdict("EXC-PREG-BF", facts, profile=GIRL) == "unknown"
    assert verdict("EXC-PREG-BF", [*facts, attest("EXC-PREG-BF")], profile=GIRL) == "pass"


@pytest.mark.parametrize(("age_days", "expected"), [(3, "fail"), (4, "unknown")])
def test_a_pregnancy_status_is_usable_for_3_days(age_days, expected):
    facts = [after_menarche(), lab(PREGNANCY_STATUS, answer=POS, on=days_before(age_days))]
    assert verdict("EXC-PREG-BF", facts, profile=GIRL) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "fail"), (29, "unknown")])
def test_a_breastfeeding_status_is_usable_for_28_days(age_days, expected):
    facts = [after_menarche(), lab(BREASTFEEDING_STATUS, answer=POS, on=days_before(age_days))]
    assert verdict("EXC-PREG-BF", facts, profile=GIRL) == expected


def test_a_pregnancy_diagnosis_ending_later_changes_on_its_abatement_day():
    dx = diagnosis("Z33", on=days_before(200), abated=AS_OF + timedelta(days=5))
    found = finding("EXC-PREG-BF", [after_menarche(), dx])
    assert (found.verdict.value, found.changes_on) == ("fail", AS_OF + timedelta(days=5))


def test_a_positive_hcg_fail_changes_when_it_goes_stale():
    found = finding("EXC-PREG-BF", [after_menarche(), lab(HCG, answer=POS, on=days_before(1))])
    assert found.changes_on == days_before(1) + timedelta(days=4)


@pytest.mark.parametrize(
    "sign", [lambda: lab(HCG, answer=EQU), lambda: lab(SERUM_HCG_QUANT, 10, "[IU]/L"),
             lambda: lab(PREGNANCY_STATUS, answer=EQU)]
)
def test_an_equivocal_sign_needs_review_until_attested_after_it(sign):
    facts = [after_menarche(), sign()]
    assert verdict("EXC-PREG-BF", facts, profile=GIRL) == "review"
    earlier = attest("EXC-PREG-BF", on=days_before(1))
    assert verdict("EXC-PREG-BF", [*facts, earlier], profile=GIRL) == "review"
    assert verdict("EXC-PREG-BF", [*facts, attest("EXC-PREG-BF")], profile=GIRL) == "pass"


def test_recorded_pregnancy_excludes_a_girl_whose_menarche_is_not_recorded():
    facts = [lab(PREGNANCY_STATUS, answer=POS)]
    assert verdict("EXC-PREG-BF", facts, profile=child(14, sex=Sex.FEMALE)) == "fail"
    assert verdict("EXC-PREG-BF", facts, profile=child(14, sex=Sex.UNKNOWN)) == "fail"


def test_a_positive_hcg_in_a_boy_does_not_exclude_him_as_pregnant():
    assert verdict("EXC-PREG-BF", [lab(SERUM_HCG_QUANT, 40, "[IU]/L")], profile=BOY) == "pass"


def test_an_attested_pregnancy_plan_excludes():
    assert verdict("EXC-PREG-BF", [after_menarche(), attest("EXC-PREG-BF", "fail")], profile=GIRL) == "fail"


def test_the_reason_names_the_value_unit_and_date():
    facts = [after_menarche(), lab(SERUM_HCG_QUANT, 40, "[IU]/L", on=date(2026, 11, 30))]
    result = criterion(screen(facts, profile=GIRL), "EXC-PREG-BF")
    assert "40 IU/L" in result.reason and "2026-11-30" in result.reason
    assert GIRL.birth_date.isoformat() not in result.reason
