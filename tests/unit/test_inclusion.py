"""INC-JDM-ENMC2018, INC-WEAKNESS and INC-VZV-SERO: boundaries of scores, windows and validity."""

from datetime import date, timedelta

import pytest

from config.protocol_files import load_protocol
from domain.facts import Qualitative
from tests.builders import (
    AS_OF,
    attest,
    child,
    criterion,
    days_before,
    diagnosis,
    finding,
    lab,
    medicine,
    score,
    screen,
    vaccine,
    verdict,
)

POS, NEG, EQU = Qualitative.POSITIVE, Qualitative.NEGATIVE, Qualitative.EQUIVOCAL
VZV = "19162-7"


def with_vaccination_accepted():
    protocol = load_protocol()
    choices = protocol.choices.model_copy(update={"accept_documented_varicella_vaccination": True})
    return protocol.model_copy(update={"choices": choices})


# INC-JDM-ENMC2018


def test_jdm_classification_is_unknown_without_an_attestation():
    assert verdict("INC-JDM-ENMC2018") == "unknown"


def test_a_recorded_jdm_diagnosis_alone_does_not_pass_the_classification():
    assert verdict("INC-JDM-ENMC2018", [diagnosis("M33.0")]) == "unknown"


def test_a_recorded_amyopathic_diagnosis_does_not_fail_the_classification():
    assert verdict("INC-JDM-ENMC2018", [diagnosis("M33.03"), attest("INC-JDM-ENMC2018")]) == "pass"


@pytest.mark.parametrize(("age_days", "expected"), [(0, "pass"), (28, "pass"), (29, "unknown")])
def test_jdm_classification_attestation_is_usable_for_28_days(age_days, expected):
    assert verdict("INC-JDM-ENMC2018", [attest("INC-JDM-ENMC2018", on=days_before(age_days))]) == expected


def test_an_attested_fail_fails_the_classification_without_until():
    result = criterion(screen([attest("INC-JDM-ENMC2018", "fail")]), "INC-JDM-ENMC2018")
    assert (result.verdict.value, result.until) == ("fail", None)


def test_a_recorded_jdm_diagnosis_is_shown_as_evidence_beside_the_attestation():
    jdm = diagnosis("M33.0", source="Condition/jdm-1", on=days_before(20))
    result = criterion(screen([jdm, attest("INC-JDM-ENMC2018")]), "INC-JDM-ENMC2018")
    assert result.verdict.value == "pass"
    assert "Condition/jdm-1" in [e.resource for e in result.evidence]


# INC-WEAKNESS


@pytest.mark.parametrize(
    ("mmt8", "expected"), [(0, "pass"), (73, "pass"), (73.9, "pass"), (74, "unknown"), (80, "unknown")]
)
def test_mmt8_below_74_passes_alone_and_above_it_alone_is_unknown(mmt8, expected):
    assert verdict("INC-WEAKNESS", [score("MMT8", mmt8)]) == expected


@pytest.mark.parametrize(("cmas", "expected"), [(0, "pass"), (44, "pass"), (45, "unknown"), (52, "unknown")])
def test_cmas_below_45_passes_alone_and_above_it_alone_is_unknown(cmas, expected):
    assert verdict("INC-WEAKNESS", [score("CMAS", cmas)]) == expected


@pytest.mark.parametrize(
    ("mmt8", "cmas", "expected"),
    [(73, 45, "pass"), (74, 44, "pass"), (73, 44, "pass"), (74, 45, "fail"), (80, 52, "fail")],
)
def test_weakness_passes_on_either_score_and_fails_only_when_both_are_not_below(mmt8, cmas, expected):
    assert verdict("INC-WEAKNESS", [score("MMT8", mmt8), score("CMAS", cmas)]) == expected


def test_weakness_fail_has_no_until_and_names_both_scores():
    result = criterion(screen([score("MMT8", 76), score("CMAS", 50)]), "INC-WEAKNESS")
    assert result.until is None
    assert "MMT8 76" in result.reason and "CMAS 50" in result.reason


def test_weakness_without_any_score_is_unknown():
    assert verdict("INC-WEAKNESS") == "unknown"


@pytest.mark.parametrize(("age_days", "expected"), [(27, "pass"), (28, "pass"), (29, "unknown")])
def test_muscle_scores_are_usable_for_28_days(age_days, expected):
    assert verdict("INC-WEAKNESS", [score("MMT8", 60, on=days_before(age_days))]) == expected


def test_a_stale_weak_score_does_not_pass_and_the_reason_says_stale():
    result = criterion(screen([score("CMAS", 20, on=days_before(29)), score("MMT8", 78)]), "INC-WEAKNESS")
    assert result.verdict.value == "unknown"
    assert "stale" in result.reason


def test_a_pass_changes_when_the_weak_score_goes_stale():
    found = finding("INC-WEAKNESS", [score("MMT8", 60, on=days_before(10))])
    assert found.changes_on == days_before(10) + timedelta(days=29)


def test_a_fail_changes_when_the_first_score_goes_stale():
    facts = [score("MMT8", 78, on=days_before(10)), score("CMAS", 50, on=days_before(2))]
    found = finding("INC-WEAKNESS", facts)
    assert found.verdict.value == "fail"
    assert found.changes_on == days_before(10) + timedelta(days=29)


def test_the_latest_score_wins_over_an_older_weak_one():
    facts = [score("MMT8", 60, on=days_before(10)), score("MMT8", 78, on=days_before(2)), score("CMAS", 50)]
    assert verdict("INC-WEAKNESS", facts) == "fail"


@pytest.mark.parametrize(
    ("code", "value"), [("MMT8", 81), ("MMT8", -1), ("MMT8", 120), ("CMAS", 53), ("CMAS", -2)]
)
def test_a_score_outside_its_scale_is_unknown_and_named(code, value):
    other = score("CMAS" if code == "MMT8" else "MMT8", 80 if code == "CMAS" else 52)
    result = criterion(screen([score(code, value), other]), "INC-WEAKNESS")
    assert result.verdict.value == "unknown"
    assert f"{code} {value:g}" in result.reason


def test_a_score_outside_its_scale_does_not_block_a_weak_other_score():
    assert verdict("INC-WEAKNESS", [score("MMT8", 120), score("CMAS", 30)]) == "pass"


@pytest.mark.parametrize(("cmas", "expected"), [(None, "review"), (50, "review"), (40, "pass")])
def test_mmt8_on_the_bilateral_scale_needs_review_unless_cmas_decides(cmas, expected):
    facts = [score("MMT8_TOTAL_BILATERAL_0_150", 120)]
    if cmas is not None:
        facts.append(score("CMAS", cmas))
    assert verdict("INC-WEAKNESS", facts) == expected


def test_a_unilateral_mmt8_is_read_before_a_bilateral_one():
    facts = [score("MMT8_TOTAL_BILATERAL_0_150", 120), score("MMT8", 70)]
    assert verdict("INC-WEAKNESS", facts) == "pass"


def test_a_stale_bilateral_mmt8_is_not_reviewed():
    bilateral = score("MMT8_TOTAL_BILATERAL_0_150", 120, on=days_before(29))
    assert verdict("INC-WEAKNESS", [bilateral]) == "unknown"


# INC-VZV-SERO


@pytest.mark.parametrize(("answer", "expected"), [(POS, "pass"), (NEG, "fail"), (EQU, "review")])
def test_vzv_igg_by_the_lab_answer(answer, expected):
    assert verdict("INC-VZV-SERO", [lab(VZV, answer=answer)]) == expected


def test_vzv_without_a_result_is_unknown():
    assert verdict("INC-VZV-SERO") == "unknown"


@pytest.mark.parametrize("age_days", [0, 29, 365, 3650])
def test_a_positive_vzv_igg_never_goes_stale(age_days):
    found = finding("INC-VZV-SERO", [lab(VZV, answer=POS, on=days_before(age_days))])
    assert (found.verdict.value, found.changes_on) == ("pass", None)


@pytest.mark.parametrize(("age_days", "expected"), [(0, "fail"), (28, "fail"), (29, "unknown")])
def test_a_negative_vzv_igg_is_usable_for_28_days(age_days, expected):
    assert verdict("INC-VZV-SERO", [lab(VZV, answer=NEG, on=days_before(age_days))]) == expected


def test_a_negative_vzv_igg_fails_without_until_and_changes_when_stale():
    found = finding("INC-VZV-SERO", [lab(VZV, answer=NEG, on=days_before(5))])
    assert found.until is None
    assert found.changes_on == days_before(5) + timedelta(days=29)


def test_a_stale_negative_says_so():
    result = criterion(screen([lab(VZV, answer=NEG, on=days_before(40))]), "INC-VZV-SERO")
    assert "stale" in result.reason


def test_the_latest_vzv_result_wins():
    facts = [lab(VZV, answer=NEG, on=days_before(20)), lab(VZV, answer=POS, on=days_before(3))]
    assert verdict("INC-VZV-SERO", facts) == "pass"
    facts = [lab(VZV, answer=POS, on=days_before(20)), lab(VZV, answer=NEG, on=days_before(3))]
    assert verdict("INC-VZV-SERO", facts) == "fail"


@pytest.mark.parametrize(("value", "unit"), [(150, "m[IU]/mL"), (0.2, "{index}")])
def test_a_quantitative_vzv_igg_without_interpretation_needs_review(value, unit):
    result = criterion(screen([lab("5403-1", value, unit)]), "INC-VZV-SERO")
    assert result.verdict.value == "review"
    assert "cut-off" in result.reason


def test_a_quantitative_vzv_igg_with_the_lab_answer_follows_the_answer():
    assert verdict("INC-VZV-SERO", [lab("5403-1", 150, "m[IU]/mL", answer=POS)]) == "pass"


@pytest.mark.parametrize(
    ("days_before_sample", "expected"), [(0, "review"), (89, "review"), (90, "review"), (91, "pass")]
)
def test_ivig_within_90_days_before_a_positive_sample_needs_review(days_before_sample, expected):
    sample = days_before(10)
    ivig = medicine("J06BA02", on=sample - timedelta(days=days_before_sample), status="completed")
    assert verdict("INC-VZV-SERO", [ivig, lab(VZV, answer=POS, on=sample)]) == expected


@pytest.mark.parametrize(("last_day_before_sample", "expected"), [(90, "review"), (91, "pass")])
def test_a_course_of_passive_antibodies_counts_from_its_last_day(last_day_before_sample, expected):
    sample = days_before(10)
    ivig = medicine("J06BA02", on=sample - timedelta(days=200),
                    until=sample - timedelta(days=last_day_before_sample), status="completed")
    assert verdict("INC-VZV-SERO", [ivig, lab(VZV, answer=POS, on=sample)]) == expected


def test_ongoing_passive_antibodies_started_long_ago_need_review():
    ivig = medicine("J06BA02", on=days_before(400), status="active")
    assert verdict("INC-VZV-SERO", [ivig, lab(VZV, answer=POS, on=days_before(5))]) == "review"


def test_passive_antibodies_given_after_the_sample_do_not_matter():
    ivig = medicine("J06BA02", on=days_before(2), status="completed")
    assert verdict("INC-VZV-SERO", [ivig, lab(VZV, answer=POS, on=days_before(5))]) == "pass"


def test_passive_antibodies_do_not_turn_a_negative_into_a_review():
    ivig = medicine("J06BA02", on=days_before(30), status="completed")
    assert verdict("INC-VZV-SERO", [ivig, lab(VZV, answer=NEG, on=days_before(5))]) == "fail"


def test_varicella_vaccination_does_not_count_by_default():
    assert verdict("INC-VZV-SERO", [vaccine("21", on=days_before(400))]) == "unknown"
    assert verdict("INC-VZV-SERO", [vaccine("21", on=days_before(400)), lab(VZV, answer=NEG)]) == "fail"


@pytest.mark.parametrize("serology", [None, NEG, EQU])
def test_varicella_vaccination_passes_when_the_protocol_accepts_it(serology):
    facts = [vaccine("21", on=days_before(400))]
    if serology is not None:
        facts.append(lab(VZV, answer=serology))
    assert verdict("INC-VZV-SERO", facts, protocol=with_vaccination_accepted()) == "pass"


def test_a_varicella_vaccination_after_as_of_does_not_count():
    facts = [vaccine("21", on=AS_OF + timedelta(days=1))]
    assert verdict("INC-VZV-SERO", facts, protocol=with_vaccination_accepted()) == "unknown"


def test_reasons_name_dates_but_no_birth_date():
    result = criterion(screen([lab(VZV, answer=NEG, on=date(2026, 11, 20))]), "INC-VZV-SERO")
    assert "2026-11-20" in result.reason
    assert child().birth_date.isoformat() not in result.reason
