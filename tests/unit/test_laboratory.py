"""Laboratory exclusions: CMV PCR, creatinine clearance, blood counts, haemoglobin, antiphospholipids."""

from dataclasses import replace
from datetime import timedelta

import pytest

from config.protocol_files import load_protocol
from domain.facts import Qualitative
from tests.builders import AS_OF, criterion, days_before, finding, lab, medicine, screen, verdict

POS, NEG, EQ = Qualitative.POSITIVE, Qualitative.NEGATIVE, Qualitative.EQUIVOCAL


def with_protocol(**sections):
    protocol = load_protocol()
    update = {name: getattr(protocol, name).model_copy(update=values) for name, values in sections.items()}
    return protocol.model_copy(update=update)


def day_after(day, n):
    return day + timedelta(days=n)


# EXC-CMV-PCR --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (lab("4996-5", answer=POS), "fail"),
        (lab("4996-5", answer=NEG), "pass"),
        (lab("4996-5", answer=EQ), "review"),
        (lab("29604-6", 150, "{copies}/mL"), "fail"),
        (lab("100675-8", 0.5, "[IU]/mL"), "fail"),
        (lab("29604-6", 0, "{copies}/mL"), "pass"),
        (lab("30247-1", 20, "{copies}/mL", comparator="<"), "pass"),
        (lab("30247-1", 20, "{copies}/mL", comparator="<", answer=NEG), "pass"),
        (lab("30247-1", 20, "{copies}/mL", comparator="<", answer=POS), "fail"),
        (lab("54206-8", 2.1, "{Log_copies}/mL"), "fail"),
        (lab("29604-6", 150, "{copies}/mL", answer=NEG), "review"),
    ],
)
def test_blood_cmv_pcr_detected_excludes_and_not_detected_passes(result, expected):
    assert verdict("EXC-CMV-PCR", [result]) == expected


def test_cmv_detected_below_the_limit_of_quantification_is_read_from_the_text():
    below = replace(lab("30247-1", 35, "[IU]/mL", comparator="<"), text="Detected, <35 IU/mL")
    not_detected = replace(lab("30247-1", 35, "[IU]/mL", comparator="<"), text="Not detected")
    assert verdict("EXC-CMV-PCR", [below]) == "fail"
    assert verdict("EXC-CMV-PCR", [not_detected]) == "pass"


def test_cmv_detected_below_the_limit_of_quantification_follows_the_protocol_choice():
    result = lab("30247-1", 20, "{copies}/mL", comparator="<", answer=POS)
    found = finding(
        "EXC-CMV-PCR", [result], protocol=with_protocol(choices={"cmv_detected_below_lloq": "review"})
    )
    assert found.verdict.value == "review"
    assert "below the limit of quantification" in found.reason


def test_a_positive_cmv_pcr_fails_without_until_since_only_a_new_result_lifts_it():
    found = finding("EXC-CMV-PCR", [lab("4996-5", answer=POS, on=days_before(3))])
    assert found.verdict.value == "fail"
    assert found.until is None
    assert found.changes_on == day_after(days_before(3), 29)


@pytest.mark.parametrize(("age_days", "expected"), [(0, "pass"), (28, "pass"), (29, "unknown")])
def test_cmv_pcr_is_usable_for_28_days(age_days, expected):
    assert verdict("EXC-CMV-PCR", [lab("4996-5", answer=NEG, on=days_before(age_days))]) == expected


def test_a_negative_cmv_pcr_passes_until_it_goes_stale():
    found = finding("EXC-CMV-PCR", [lab("4996-5", answer=NEG, on=days_before(10))])
    assert found.changes_on == day_after(days_before(10), 29)


def test_a_later_negative_cmv_pcr_lifts_an_earlier_positive():
    facts = [lab("4996-5", answer=POS, on=days_before(10)), lab("4996-5", answer=NEG, on=days_before(2))]
    assert verdict("EXC-CMV-PCR", facts) == "pass"


def test_an_older_positive_cmv_pcr_arriving_late_does_not_override_a_newer_negative():
    facts = [lab("4996-5", answer=NEG, on=days_before(2)), lab("4996-5", answer=POS, on=days_before(10))]
    assert verdict("EXC-CMV-PCR", facts) == "pass"


def test_a_later_positive_cmv_pcr_excludes_after_an_earlier_negative():
    facts = [lab("4996-5", answer=NEG, on=days_before(10)), lab("4996-5", answer=POS, on=days_before(2))]
    assert verdict("EXC-CMV-PCR", facts) == "fail"


def test_a_cmv_pcr_on_another_specimen_alone_asks_to_check_the_specimen():
    result = criterion(screen([lab("33006-8", answer=NEG)]), "EXC-CMV-PCR")
    assert result.verdict.value == "review"
    assert "specimen" in result.reason


def test_a_cmv_pcr_on_another_specimen_never_counts_beside_a_blood_result():
    facts = [lab("33006-8", answer=POS), lab("4996-5", answer=NEG, on=days_before(1))]
    assert verdict("EXC-CMV-PCR", facts) == "pass"


def test_no_cmv_pcr_is_unknown_and_a_stale_one_says_so():
    assert verdict("EXC-CMV-PCR") == "unknown"
    stale = criterion(screen([lab("4996-5", answer=NEG, on=days_before(40))]), "EXC-CMV-PCR")
    assert stale.verdict.value == "unknown"
    assert "older than 28 days" in stale.reason


def test_a_cmv_pcr_in_free_text_only_needs_review():
    assert verdict("EXC-CMV-PCR", [replace(lab("4996-5"), text="see comment")]) == "review"


# EXC-CRCL -----------------------------------------------------------------------------------------


def height(cm, unit="cm", *, on=AS_OF):
    return lab("8302-2", cm, unit, on=on)


@pytest.mark.parametrize(
    ("creatinine", "unit", "expected"),
    [
        (1.0325, "mg/dL", "pass"),  # 0.413 × 100 / 1.0325 = 40.0
        (1.033, "mg/dL", "fail"),  # 39.98
        (1.0, "mg/dL", "pass"),  # 41.3
        (10.325, "mg/L", "pass"),
        (10.33, "mg/L", "fail"),
        (91.29, "umol/L", "pass"),  # 1.03246 mg/dL, 40.002
        (91.3, "umol/L", "fail"),  # 39.997
        (0.09129, "mmol/L", "pass"),
        (0.0913, "mmol/L", "fail"),
    ],
)
def test_bedside_schwartz_below_40_excludes_in_every_creatinine_unit(creatinine, unit, expected):
    assert verdict("EXC-CRCL", [lab("2160-0", creatinine, unit), height(100)]) == expected


@pytest.mark.parametrize(
    ("value", "unit", "creatinine", "expected"),
    [
        (1.0, "m", 1.0325, "pass"),
        (1.0, "m", 1.033, "fail"),
        (50, "[in_i]", 1.3112, "pass"),
        (50, "[in_i]", 1.3113, "fail"),
    ],  # 50 in = 127 cm: limit 1.311275
)
def test_height_is_converted_to_centimetres(value, unit, creatinine, expected):
    assert verdict("EXC-CRCL", [lab("2160-0", creatinine, "mg/dL"), height(value, unit)]) == expected


def test_the_schwartz_reason_shows_the_formula_one_decimal_and_keeps_both_inputs_as_evidence():
    creatinine, tall = lab("14682-9", 110, "umol/L", on=days_before(2)), height(120, on=days_before(5))
    result = criterion(screen([creatinine, tall]), "EXC-CRCL")
    assert result.verdict.value == "fail"
    assert "bedside Schwartz (0.413 × 120 cm / 1.2441 mg/dL)" in result.reason
    assert "39.8 mL/min/1.73 m², below 40" in result.reason
    assert {e.resource for e in result.evidence} == {creatinine.source, tall.source}


def test_a_value_just_below_40_is_never_shown_as_40():
    result = criterion(screen([lab("2160-0", 1.03252, "mg/dL"), height(100)]), "EXC-CRCL")
    assert result.verdict.value == "fail"
    assert "40.0 " not in result.reason


def test_a_creatinine_without_a_height_names_the_missing_height():
    creatinine = lab("2160-0", 0.6, "mg/dL", on=days_before(1))
    result = criterion(screen([creatinine]), "EXC-CRCL")
    assert result.verdict.value == "unknown"
    assert (
        "creatinine 0.6 mg/dL on 2026-11-30 but no height within 30 days before it".lower()
        in result.reason.lower()
    )
    assert [e.resource for e in result.evidence] == [creatinine.source]


def test_a_height_measured_after_the_creatinine_does_not_count():
    facts = [lab("2160-0", 0.6, "mg/dL", on=days_before(5)), height(130, on=days_before(1))]
    assert verdict("EXC-CRCL", facts) == "unknown"


@pytest.mark.parametrize(("days_before_creatinine", "expected"), [(0, "pass"), (30, "pass"), (31, "unknown")])
def test_height_counts_within_30_days_before_the_creatinine(days_before_creatinine, expected):
    protocol = with_protocol(validity={"height": 90})
    on = days_before(2)
    facts = [lab("2160-0", 0.6, "mg/dL", on=on), height(130, on=on - timedelta(days=days_before_creatinine))]
    assert finding("EXC-CRCL", facts, protocol=protocol).verdict.value == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_the_height_must_also_be_usable_as_of_the_screening_day(age_days, expected):
    facts = [lab("2160-0", 0.6, "mg/dL"), height(130, on=days_before(age_days))]
    assert verdict("EXC-CRCL", facts) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_creatinine_is_usable_for_28_days(age_days, expected):
    on = days_before(age_days)
    assert verdict("EXC-CRCL", [lab("2160-0", 0.6, "mg/dL", on=on), height(130, on=on)]) == expected


def test_a_schwartz_pass_changes_when_its_first_input_goes_stale():
    facts = [lab("2160-0", 0.6, "mg/dL", on=days_before(3)), height(130, on=days_before(10))]
    assert finding("EXC-CRCL", facts).changes_on == day_after(days_before(10), 29)


def test_a_creatinine_in_an_unknown_unit_is_unknown_and_names_the_unit():
    result = criterion(screen([lab("2160-0", 0.6, "g/dL"), height(130)]), "EXC-CRCL")
    assert result.verdict.value == "unknown"
    assert "g/dL" in result.reason


@pytest.mark.parametrize(("value", "expected"), [(39.9, "fail"), (40, "pass"), (40.1, "pass")])
def test_a_lab_reported_paediatric_egfr_is_compared_to_40(value, expected):
    assert verdict("EXC-CRCL", [lab("50384-7", value, "mL/min/{1.73_m2}")]) == expected


def test_a_newer_lab_egfr_wins_over_an_older_creatinine():
    facts = [
        lab("2160-0", 0.6, "mg/dL", on=days_before(5)),
        height(130, on=days_before(5)),
        lab("69405-9", 35, "mL/min/{1.73_m2}", on=days_before(1)),
    ]
    assert verdict("EXC-CRCL", facts) == "fail"


def test_a_newer_creatinine_wins_over_an_older_lab_egfr():
    facts = [
        lab("2160-0", 0.6, "mg/dL", on=days_before(1)),
        height(130, on=days_before(1)),
        lab("69405-9", 35, "mL/min/{1.73_m2}", on=days_before(5)),
    ]
    assert verdict("EXC-CRCL", facts) == "pass"


def test_bedside_schwartz_wins_a_same_day_tie_with_a_lab_egfr():
    facts = [lab("2160-0", 0.6, "mg/dL"), height(130), lab("69405-9", 35, "mL/min/{1.73_m2}")]
    assert verdict("EXC-CRCL", facts) == "pass"


def test_a_same_day_lab_egfr_is_used_when_schwartz_lacks_a_height():
    facts = [lab("2160-0", 0.6, "mg/dL"), lab("69405-9", 35, "mL/min/{1.73_m2}")]
    assert verdict("EXC-CRCL", facts) == "fail"


def test_a_newest_creatinine_without_height_is_unknown_even_beside_an_older_egfr():
    facts = [
        lab("2160-0", 0.6, "mg/dL", on=days_before(1)),
        lab("69405-9", 80, "mL/min/{1.73_m2}", on=days_before(5)),
    ]
    assert verdict("EXC-CRCL", facts) == "unknown"


@pytest.mark.parametrize(("value", "expected"), [(39.9, "fail"), (40, "pass")])
def test_a_measured_clearance_per_1_73_m2_is_used_as_it_is(value, expected):
    assert verdict("EXC-CRCL", [lab("2164-2", value, "mL/min/{1.73_m2}")]) == expected


def test_a_measured_clearance_in_ml_min_is_normalised_with_mosteller_body_surface():
    # height 120 cm, weight 27 kg: BSA 0.9487 m²; 22 mL/min × 1.73 / 0.9487 = 40.12
    facts = [lab("2164-2", 22, "mL/min"), height(120), lab("29463-7", 27, "kg")]
    result = criterion(screen(facts), "EXC-CRCL")
    assert result.verdict.value == "pass"
    assert "0.95 m²" in result.reason
    assert len(result.evidence) == 3
    assert (
        verdict("EXC-CRCL", [lab("2164-2", 21.9, "mL/min"), height(120), lab("29463-7", 27, "kg")]) == "fail"
    )


def test_a_measured_clearance_in_ml_min_without_height_and_weight_is_taken_as_it_is_and_says_so():
    result = criterion(screen([lab("2164-2", 45, "mL/min")]), "EXC-CRCL")
    assert result.verdict.value == "pass"
    assert "no recent height and weight" in result.reason


def test_no_kidney_function_result_is_unknown():
    assert verdict("EXC-CRCL") == "unknown"
    stale = criterion(screen([lab("69405-9", 80, "mL/min/{1.73_m2}", on=days_before(29))]), "EXC-CRCL")
    assert stale.verdict.value == "unknown"
    assert "older than 28 days" in stale.reason


def test_a_creatinine_below_a_limit_gives_an_egfr_above_the_bound():
    assert verdict("EXC-CRCL", [lab("2160-0", 0.2, "mg/dL", comparator="<"), height(100)]) == "pass"
    assert verdict("EXC-CRCL", [lab("2160-0", 0.5, "mg/dL", comparator=">"), height(100)]) == "review"


# EXC-ALC / EXC-ANC --------------------------------------------------------------------------------

COUNT_UNITS = [("10*9/L", 1), ("G/L", 1), ("10*3/uL", 1), ("/uL", 1000), ("/mm3", 1000)]


@pytest.mark.parametrize(("unit", "scale"), COUNT_UNITS)
@pytest.mark.parametrize(("value", "expected"), [(0.49, "fail"), (0.5, "pass"), (0.51, "pass")])
def test_lymphocytes_below_0_5_exclude_in_every_count_unit(unit, scale, value, expected):
    assert verdict("EXC-ALC", [lab("731-0", round(value * scale, 6), unit)]) == expected


@pytest.mark.parametrize(("unit", "scale"), COUNT_UNITS)
@pytest.mark.parametrize(("value", "expected"), [(0.99, "fail"), (1.0, "pass"), (1.01, "pass")])
def test_neutrophils_below_1_0_exclude_in_every_count_unit(unit, scale, value, expected):
    assert verdict("EXC-ANC", [lab("751-8", round(value * scale, 6), unit)]) == expected


def test_either_cytopenia_excludes_on_its_own():
    facts = [lab("731-0", 0.4, "10*9/L"), lab("751-8", 3.0, "10*9/L")]
    result = screen(facts)
    assert criterion(result, "EXC-ALC").verdict.value == "fail"
    assert criterion(result, "EXC-ANC").verdict.value == "pass"


@pytest.mark.parametrize(
    ("value", "comparator", "expected"),
    [
        (0.5, "<", "fail"),
        (0.4, "<", "fail"),
        (0.6, "<", "review"),
        (0.4, ">", "review"),
        (0.5, ">=", "pass"),
        (0.5, ">", "pass"),
    ],
)
def test_count_comparators_are_honoured(value, comparator, expected):
    assert verdict("EXC-ALC", [lab("731-0", value, "10*9/L", comparator=comparator)]) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "fail"), (29, "unknown")])
def test_blood_counts_are_usable_for_28_days(age_days, expected):
    assert verdict("EXC-ANC", [lab("751-8", 0.8, "10*9/L", on=days_before(age_days))]) == expected


def test_a_count_in_an_unknown_unit_is_unknown_and_names_the_unit():
    result = criterion(screen([lab("731-0", 0.8, "10*12/L")]), "EXC-ALC")
    assert result.verdict.value == "unknown"
    assert "10*12/L" in result.reason


@pytest.mark.parametrize(
    ("percent", "wbc", "unit", "expected"),
    [
        (10, 4.9, "10*9/L", "fail"),
        (10, 5.0, "10*9/L", "pass"),
        (10, 5.1, "G/L", "pass"),
        (10, 4900, "/uL", "fail"),
        (10, 5000, "/mm3", "pass"),
    ],
)
def test_lymphocytes_are_derived_from_a_percentage_and_a_leukocyte_count_of_the_same_sample(
    percent, wbc, unit, expected
):
    facts = [lab("736-9", percent, "%", sample="s1"), lab("6690-2", wbc, unit, sample="s1")]
    assert verdict("EXC-ALC", facts) == expected


def test_a_derived_neutrophil_count_keeps_both_results_as_evidence_and_shows_the_arithmetic():
    percent, wbc = lab("770-8", 20, "%", sample="s9"), lab("6690-2", 4.5, "10*9/L", sample="s9")
    result = criterion(screen([percent, wbc]), "EXC-ANC")
    assert result.verdict.value == "fail"
    assert "0.9 ×10⁹/L (20 % of leukocytes 4.5 ×10⁹/L)" in result.reason
    assert {e.resource for e in result.evidence} == {percent.source, wbc.source}


def test_without_sample_ids_the_same_date_and_sequence_pair_a_percentage_with_a_leukocyte_count():
    percent = replace(lab("736-9", 8, "%"), seq="2026-12-01T08:00")
    same = replace(lab("6690-2", 5.0, "10*9/L"), seq="2026-12-01T08:00")
    other = replace(lab("6690-2", 9.0, "10*9/L"), seq="2026-12-01T16:00")
    assert verdict("EXC-ALC", [percent, same]) == "fail"  # 0.40
    assert verdict("EXC-ALC", [percent, other]) == "unknown"


def test_a_leukocyte_count_from_another_sample_does_not_pair():
    facts = [lab("736-9", 8, "%", sample="s1"), lab("6690-2", 5.0, "10*9/L", sample="s2")]
    result = criterion(screen(facts), "EXC-ALC")
    assert result.verdict.value == "unknown"
    assert "no leukocyte count from the same sample" in result.reason


def test_the_newest_usable_count_wins_between_absolute_and_derived():
    older_absolute = lab("731-0", 2.0, "10*9/L", on=days_before(5))
    newer_pct = [
        lab("736-9", 8, "%", sample="s1", on=days_before(1)),
        lab("6690-2", 5.0, "10*9/L", sample="s1", on=days_before(1)),
    ]
    assert verdict("EXC-ALC", [older_absolute, *newer_pct]) == "fail"
    newer_absolute = lab("731-0", 2.0, "10*9/L", on=days_before(1))
    older_pct = [
        lab("736-9", 8, "%", sample="s2", on=days_before(5)),
        lab("6690-2", 5.0, "10*9/L", sample="s2", on=days_before(5)),
    ]
    assert verdict("EXC-ALC", [newer_absolute, *older_pct]) == "pass"


def test_a_same_day_absolute_count_wins_over_a_derived_one():
    facts = [
        lab("731-0", 2.0, "10*9/L"),
        lab("736-9", 8, "%", sample="s1"),
        lab("6690-2", 5.0, "10*9/L", sample="s1"),
    ]
    assert verdict("EXC-ALC", facts) == "pass"


def test_no_count_is_unknown():
    assert verdict("EXC-ALC") == "unknown"
    assert verdict("EXC-ANC") == "unknown"


# EXC-HB -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "comparator", "expected"), [(8, "<", "fail"), (9, "<", "review"), (8, ">", "pass")]
)
def test_haemoglobin_comparators_are_honoured(value, comparator, expected):
    assert verdict("EXC-HB", [lab("718-7", value, "g/dL", comparator=comparator)]) == expected


# EXC-APL ------------------------------------------------------------------------------------------


def apl(la=NEG, acl=NEG, b2=NEG, *, on=AS_OF):
    return [
        lab("3282-1", answer=la, on=on),
        lab("3181-5", answer=acl, on=on),
        lab("44448-9", answer=b2, on=on),
    ]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((NEG, NEG, NEG), "pass"),
        ((POS, NEG, NEG), "fail"),
        ((NEG, POS, NEG), "fail"),
        ((NEG, NEG, POS), "fail"),
        ((EQ, NEG, NEG), "review"),
        ((NEG, EQ, NEG), "review"),
    ],
)
def test_any_positive_antiphospholipid_test_excludes(answers, expected):
    assert verdict("EXC-APL", apl(*answers)) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_antiphospholipid_tests_are_usable_for_28_days(age_days, expected):
    assert verdict("EXC-APL", apl(on=days_before(age_days))) == expected


def test_a_missing_antiphospholipid_test_is_unknown_and_named():
    result = criterion(screen(apl()[:2]), "EXC-APL")
    assert result.verdict.value == "unknown"
    assert "anti-β2-glycoprotein 1" in result.reason


def test_a_positive_excludes_even_when_another_test_is_missing():
    assert verdict("EXC-APL", [lab("3181-5", answer=POS)]) == "fail"


def test_anticardiolipin_igm_counts_beside_a_newer_negative_igg():
    facts = [*apl(on=days_before(1)), lab("3182-3", answer=POS, on=days_before(3))]
    assert verdict("EXC-APL", facts) == "fail"


def test_a_newer_negative_replaces_an_older_positive_of_the_same_test():
    facts = [*apl(on=days_before(1)), lab("3181-5", answer=POS, on=days_before(3))]
    assert verdict("EXC-APL", facts) == "pass"


def test_a_value_without_the_labs_interpretation_needs_review():
    facts = [*apl()[::2], lab("3181-5", 25, "[GPL'U]/mL")]
    result = criterion(screen(facts), "EXC-APL")
    assert result.verdict.value == "review"
    assert "cut-off" in result.reason


def test_a_lupus_anticoagulant_positive_under_heparin_needs_review():
    facts = [*apl(la=POS), medicine("B01AB01", on=days_before(3))]
    result = criterion(screen(facts), "EXC-APL")
    assert result.verdict.value == "review"
    assert "anticoagulation" in result.reason


def test_low_titre_positives_follow_the_protocol_choice():
    facts = [*apl()[::2], lab("3181-5", 30, "[GPL'U]/mL", answer=POS)]
    assert finding("EXC-APL", facts).verdict.value == "fail"
    chosen = with_protocol(choices={"antiphospholipid_low_titre": "review"})
    assert finding("EXC-APL", facts, protocol=chosen).verdict.value == "review"
    high = [*apl()[::2], lab("3181-5", 60, "[GPL'U]/mL", answer=POS)]
    assert finding("EXC-APL", high, protocol=chosen).verdict.value == "fail"


def test_an_antiphospholipid_pass_changes_when_the_first_test_goes_stale():
    facts = [*apl(on=days_before(2))[:2], lab("44448-9", answer=NEG, on=days_before(9))]
    assert finding("EXC-APL", facts).changes_on == day_after(days_before(9), 29)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "implausible"),
    [(1e-6, 1e-6, "height"), (120, 1e-6, "weight"), (120, 0, "weight"), (5000, 27, "height"), (120, 900, "weight")],
)
def test_a_measured_clearance_with_an_impossible_height_or_weight_is_unknown_and_says_which(
    height_cm, weight_kg, implausible
):
    """Arithmetic on such values would decide, or divide by a body surface rounded to zero."""
    result = criterion(screen([lab("2164-2", 22, "mL/min"), height(height_cm), lab("29463-7", weight_kg, "kg")]),
                       "EXC-CRCL")
    assert result.verdict.value == "unknown"
    assert f"is not a plausible {implausible}" in result.reason


@pytest.mark.parametrize("height_cm", [1e-6, 3, 400])
def test_a_creatinine_with_an_impossible_height_gives_no_egfr(height_cm):
    result = criterion(screen([lab("2160-0", 0.6, "mg/dL"), height(height_cm)]), "EXC-CRCL")
    assert result.verdict.value == "unknown"
    assert "is not a plausible height" in result.reason
