"""Contract §1.1: the eight cases the first release left open, each pinned so that it cannot regress.

One section per clarification, in the contract's order. Most tests read the rule's own verdict and
reason from domain facts; the last section sends FHIR Bundles through ``myocit screen`` itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from itertools import permutations

import pytest
from typer.testing import CliRunner

from config.protocol_files import load_protocol
from domain.context import add_years, completed_years
from domain.facts import ConsentRecord, ConsentState, LabResult, Qualitative, Sex
from domain.thresholds import above, allowed, below
from myocit.cli import app
from tests import fhir_samples as fhir
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
    verdict,
)

POS, NEG = Qualitative.POSITIVE, Qualitative.NEGATIVE
LYMPHOCYTES, NEUTROPHILS, HAEMOGLOBIN = "731-0", "751-8", "718-7"
EGFR, MEASURED_CLEARANCE, CREATININE, HEIGHT, WEIGHT = "69405-9", "2164-2", "2160-0", "8302-2", "29463-7"
VZV, HIV_SCREEN, HIV_CONFIRMATION = "19162-7", "56888-1", "69668-3"


def day_after(day: date, n: int) -> date:
    return day + timedelta(days=n)


# -- Retractions void a resource ------------------------------------------------------------------


def versions(*specs: tuple[str, float]) -> list[LabResult]:
    """Successive versions of one lymphocyte result, in the order they were stored."""
    return [
        lab(LYMPHOCYTES, value, "10*9/L", status=status, source="Observation/alc", revision=i)
        for i, (status, value) in enumerate(specs, start=1)
    ]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        # The retraction is the first, middle or last of three versions: only the last voids it.
        (("entered-in-error", "final", "amended"), "pass"),
        (("final", "entered-in-error", "amended"), "pass"),
        (("final", "amended", "entered-in-error"), "unknown"),
    ],
    ids=["first", "middle", "last"],
)
def test_the_latest_version_of_a_resource_governs_wherever_the_retraction_falls(statuses, expected):
    # The first version alone (0.4) would fail: a retraction that does not come last leaves the
    # latest version (0.6) standing, and one that comes last leaves nothing at all.
    facts = versions(*zip(statuses, (0.4, 0.5, 0.6)))
    assert verdict("EXC-ALC", facts) == expected


def test_a_retracted_resource_is_void_in_all_its_versions():
    facts = versions(("final", 0.4), ("amended", 0.3), ("entered-in-error", 0.3))
    result = criterion(screen(facts), "EXC-ALC")
    assert result.verdict.value == "unknown"
    assert result.evidence == ()
    assert result.reason == "No lymphocyte count"


def test_a_new_final_version_after_a_retraction_makes_the_resource_stand_again():
    retracted = versions(("final", 0.4), ("entered-in-error", 0.4))
    assert verdict("EXC-ALC", retracted) == "unknown"
    again = [*retracted, lab(LYMPHOCYTES, 0.45, "10*9/L", source="Observation/alc", revision=3)]
    result = criterion(screen(again), "EXC-ALC")
    assert result.verdict.value == "fail" and "0.45" in result.reason


def test_the_order_of_arrival_of_versions_does_not_matter_only_their_stored_order():
    facts = versions(("final", 0.4), ("entered-in-error", 0.4), ("final", 0.6))
    for order in permutations(facts):
        assert verdict("EXC-ALC", list(order)) == "pass"


def test_a_void_resource_leaves_the_other_resources_to_decide():
    # The voided result is simply gone: an older result of another resource is the latest left.
    other = lab(LYMPHOCYTES, 0.8, "10*9/L", on=days_before(5), source="Observation/older")
    facts = [other, *versions(("final", 0.4), ("entered-in-error", 0.4))]
    result = criterion(screen(facts), "EXC-ALC")
    assert result.verdict.value == "pass"
    assert [e.resource for e in result.evidence] == ["Observation/older"]


def test_a_retraction_voids_the_components_of_earlier_versions_too():
    component = lab(LYMPHOCYTES, 0.4, "10*9/L", source="Observation/cbc#component-0", revision=1)
    panel = lab("58410-2", source="Observation/cbc", revision=1)
    retraction = lab("58410-2", status="entered-in-error", source="Observation/cbc", revision=2)
    assert verdict("EXC-ALC", [component, panel]) == "fail"
    assert verdict("EXC-ALC", [component, panel, retraction]) == "unknown"


RETRACTABLE = {
    "INC-CONSENT": (
        ConsentRecord("Consent/c1", AS_OF, ConsentState.REFUSED, status="rejected", revision=1), "fail"
    ),
    "EXC-HSV-12W": (replace(diagnosis("B00.1", source="Condition/hsv"), revision=1), "fail"),
    "INC-WEAKNESS": (replace(score("MMT8", 60, source="Observation/mmt8"), revision=1), "pass"),
}


@pytest.mark.parametrize("cid", list(RETRACTABLE))
def test_a_retraction_voids_every_kind_of_fact(cid):
    first, before = RETRACTABLE[cid]
    if cid == "EXC-HSV-12W":  # a Condition is retracted by its verification status
        retraction = replace(first, verification="entered-in-error", revision=2)
    else:
        retraction = replace(first, status="entered-in-error", revision=2)
    assert verdict(cid, [first]) == before
    assert verdict(cid, [first, retraction]) == "unknown"


# -- An HSV episode still active ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "recurrence", "relapse"])
def test_an_hsv_episode_still_active_without_abatement_fails_without_until(status):
    episode = diagnosis("B00.1", on=days_before(200), status=status)
    result = criterion(screen([episode, attest("EXC-HSV-12W")]), "EXC-HSV-12W")
    assert result.verdict.value == "fail"
    assert result.until is None
    assert "no abatement date" in result.reason
    assert screen([episode]).status.value == "ineligible"


def test_an_active_hsv_episode_with_a_long_past_onset_is_not_lifted_by_time():
    episode = diagnosis("B00.1", on=days_before(400))
    for later in (AS_OF, day_after(AS_OF, 85), day_after(AS_OF, 365)):
        assert finding("EXC-HSV-12W", [episode], as_of=later).until is None
        assert verdict("EXC-HSV-12W", [episode], as_of=later) == "fail"


@pytest.mark.parametrize(("abated_days_before", "expected"), [(0, "fail"), (84, "fail"), (85, "pass")])
def test_once_abatement_is_recorded_the_84_days_count_from_it(abated_days_before, expected):
    abated = days_before(abated_days_before)
    episode = diagnosis("B00.1", on=days_before(300), abated=abated, status="active")
    result = criterion(screen([episode, attest("EXC-HSV-12W")]), "EXC-HSV-12W")
    assert result.verdict.value == expected
    if expected == "fail":
        assert result.until == day_after(abated, 85)
        assert f"abated {abated.isoformat()}" in result.reason


def test_the_same_episode_gains_an_until_when_a_new_version_records_its_abatement():
    active = replace(diagnosis("B00.1", on=days_before(30), source="Condition/hsv"), revision=1)
    abated = replace(active, abated=days_before(10), status="resolved", revision=2)
    assert criterion(screen([active]), "EXC-HSV-12W").until is None
    assert criterion(screen([active, abated]), "EXC-HSV-12W").until == day_after(days_before(10), 85)
    assert screen([active, abated]).status.value != "ineligible"


# -- A reactive HIV screen ------------------------------------------------------------------------


def test_a_reactive_hiv_screen_without_confirmation_needs_review():
    result = criterion(screen([lab(HIV_SCREEN, answer=POS)]), "EXC-INF-HIV")
    assert result.verdict.value == "review"
    assert "not confirmed" in result.reason


def test_a_reactive_hiv_screen_with_a_negative_confirmation_still_needs_review():
    facts = [lab(HIV_SCREEN, answer=POS, on=days_before(3)), lab(HIV_CONFIRMATION, answer=NEG)]
    assert verdict("EXC-INF-HIV", facts) == "review"


@pytest.mark.parametrize("confirmed_days_before", [0, 28, 400])
def test_a_confirmed_positive_hiv_test_fails_without_until(confirmed_days_before):
    facts = [
        lab(HIV_SCREEN, answer=POS, on=days_before(confirmed_days_before + 2)),
        lab(HIV_CONFIRMATION, answer=POS, on=days_before(confirmed_days_before)),
    ]
    result = criterion(screen(facts), "EXC-INF-HIV")
    assert result.verdict.value == "fail" and result.until is None
    assert screen(facts).status.value == "ineligible"


# -- Born on 29 February --------------------------------------------------------------------------

LEAP_BIRTH = date(2020, 2, 29)


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        (1, date(2021, 2, 28)),  # no 29 February in 2021
        (3, date(2023, 2, 28)),
        (4, date(2024, 2, 29)),  # a leap year keeps the day
        (19, date(2039, 2, 28)),
        (80, date(2100, 2, 28)),  # 2100 is not a leap year
    ],
)
def test_a_29_february_birthday_falls_on_28_february_in_a_year_without_it(years, expected):
    assert add_years(LEAP_BIRTH, years) == expected


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2023, 2, 27), 2),
        (date(2023, 2, 28), 3),  # non-leap year: the birthday is 28 February
        (date(2023, 3, 1), 3),
        (date(2024, 2, 28), 3),  # leap year: the birthday is 29 February, not yet reached
        (date(2024, 2, 29), 4),
        (date(2025, 2, 28), 5),
    ],
)
def test_completed_years_count_the_same_birthdays_as_add_years(on, age):
    assert completed_years(LEAP_BIRTH, on) == age


def test_a_child_born_on_29_february_turns_3_on_28_february_of_a_non_leap_year():
    profile = child(birth=date(2020, 2, 29))
    before = criterion(screen(profile=profile, as_of=date(2023, 2, 27)), "INC-AGE")
    assert before.verdict.value == "fail"
    assert before.until == date(2023, 2, 28)
    assert "turns 3 on 2023-02-28" in before.reason
    on_the_day = criterion(screen(profile=profile, as_of=date(2023, 2, 28)), "INC-AGE")
    assert on_the_day.verdict.value == "pass"
    assert on_the_day.reason.startswith("Aged 3,")
    assert screen(profile=profile, as_of=date(2023, 2, 27)).next_review_at == date(2023, 2, 28)


def test_a_child_born_on_29_february_is_too_old_from_28_february_of_the_year_they_turn_19():
    profile = child(birth=date(2008, 2, 29))
    last_day = criterion(screen(profile=profile, as_of=date(2027, 2, 27)), "INC-AGE")
    assert last_day.verdict.value == "pass"
    assert last_day.reason.startswith("Aged 18,")
    assert finding("INC-AGE", profile=profile, as_of=date(2027, 2, 27)).changes_on == date(2027, 2, 28)
    too_old = criterion(screen(profile=profile, as_of=date(2027, 2, 28)), "INC-AGE")
    assert too_old.verdict.value == "fail" and too_old.until is None
    assert too_old.reason == "Aged 19: 19 or older since 2027-02-28"


def test_in_a_leap_year_a_29_february_birthday_is_the_29th():
    # The 3rd and 19th birthdays of a 29 February child never fall in a leap year; a protocol whose
    # limits do (4 and 20 years) shows the other side of the rule.
    protocol = load_protocol()
    protocol = protocol.model_copy(
        update={"age": protocol.age.model_copy(update={"minimum_years": 4, "maximum_years": 19})}
    )
    young = child(birth=date(2020, 2, 29))
    before = finding("INC-AGE", profile=young, as_of=date(2024, 2, 28), protocol=protocol)
    assert before.until == date(2024, 2, 29)
    assert verdict("INC-AGE", profile=young, as_of=date(2024, 2, 29), protocol=protocol) == "pass"
    old = child(birth=date(2004, 2, 29))
    assert verdict("INC-AGE", profile=old, as_of=date(2024, 2, 28), protocol=protocol) == "pass"
    assert verdict("INC-AGE", profile=old, as_of=date(2024, 2, 29), protocol=protocol) == "fail"


def test_the_menarche_age_uses_the_same_birthday_in_a_leap_year_and_in_another():
    girl = child(birth=date(2016, 2, 29), sex=Sex.FEMALE)
    seven = finding("INC-WOCBP-HCG", profile=girl, as_of=date(2024, 2, 28))
    assert seven.verdict.value == "pass" and seven.changes_on == date(2024, 2, 29)
    assert verdict("INC-WOCBP-HCG", profile=girl, as_of=date(2024, 2, 29)) == "unknown"
    older = child(birth=date(2012, 2, 29), sex=Sex.FEMALE)  # 8th birthday in 2020, a leap year
    assert verdict("INC-WOCBP-HCG", profile=older, as_of=date(2020, 2, 28)) == "pass"
    born_2015 = child(birth=date(2015, 3, 1), sex=Sex.FEMALE)  # control: no leap day involved
    assert verdict("INC-WOCBP-HCG", profile=born_2015, as_of=date(2023, 3, 1)) == "unknown"


# -- Comparators against thresholds ---------------------------------------------------------------

# What a value with each comparator says about "below the limit", just below, at and just above it.
BELOW, NOT_BELOW, OPEN = "below", "not below", "open"
COMPARATOR_CASES = {
    None: (BELOW, NOT_BELOW, NOT_BELOW),
    "<": (BELOW, BELOW, OPEN),
    "<=": (BELOW, OPEN, OPEN),
    ">": (OPEN, NOT_BELOW, NOT_BELOW),
    ">=": (OPEN, NOT_BELOW, NOT_BELOW),
}
CASES = [
    (comparator, position, expected)
    for comparator, outcomes in COMPARATOR_CASES.items()
    for position, expected in zip(("just below", "at", "just above"), outcomes)
]
CASE_IDS = [f"{c or 'none'} {p}" for c, p, _ in CASES]


def placed(limit: float, step: float, position: str) -> float:
    return round({"just below": limit - step, "at": limit, "just above": limit + step}[position], 6)


@pytest.mark.parametrize(("comparator", "position", "expected"), CASES, ids=CASE_IDS)
def test_the_shared_reading_decides_only_when_every_allowed_value_is_on_one_side(
    comparator, position, expected
):
    got = below(placed(0.5, 0.01, position), comparator, 0.5)
    assert got == {BELOW: True, NOT_BELOW: False, OPEN: None}[expected]


EXCLUSION_VERDICT = {BELOW: "fail", NOT_BELOW: "pass", OPEN: "review"}
LAB_THRESHOLDS = [
    # criterion, LOINC, unit, limit in that unit, step
    ("EXC-ALC", LYMPHOCYTES, "10*9/L", 0.5, 0.01),
    ("EXC-ALC", LYMPHOCYTES, "/uL", 500, 10),
    ("EXC-ANC", NEUTROPHILS, "10*9/L", 1.0, 0.01),
    ("EXC-HB", HAEMOGLOBIN, "g/dL", 8.0, 0.1),
    ("EXC-HB", HAEMOGLOBIN, "g/L", 80, 1),
    ("EXC-CRCL", EGFR, "mL/min/{1.73_m2}", 40, 0.5),
    ("EXC-CRCL", MEASURED_CLEARANCE, "mL/min/{1.73_m2}", 40, 0.5),
]


@pytest.mark.parametrize(("cid", "loinc", "unit", "limit", "step"), LAB_THRESHOLDS,
                         ids=[f"{c} {u}" for c, _, u, _, _ in LAB_THRESHOLDS])
@pytest.mark.parametrize(("comparator", "position", "expected"), CASES, ids=CASE_IDS)
def test_every_laboratory_threshold_reads_comparators_alike(
    cid, loinc, unit, limit, step, comparator, position, expected
):
    result = lab(loinc, placed(limit, step, position), unit, comparator=comparator)
    assert verdict(cid, [result]) == EXCLUSION_VERDICT[expected]


@pytest.mark.parametrize(
    ("code", "limit", "other"),
    [("MMT8", 74, ("CMAS", 50)), ("CMAS", 45, ("MMT8", 78))],
)
@pytest.mark.parametrize(("comparator", "position", "expected"), CASES, ids=CASE_IDS)
def test_weakness_scores_read_comparators_alike(code, limit, other, comparator, position, expected):
    # The other score is known and not below its threshold, so this one decides.
    given = replace(score(code, placed(limit, 1, position)), comparator=comparator)
    got = verdict("INC-WEAKNESS", [given, score(*other)])
    assert got == {BELOW: "pass", NOT_BELOW: "fail", OPEN: "review"}[expected]


@pytest.mark.parametrize(
    ("comparator", "creatinine", "expected"),
    [
        # height 100 cm: 0.413 × 100 / 1.0325 = 40 exactly; a creatinine bound flips for the eGFR.
        ("<", 1.0325, "pass"),  # eGFR > 40
        ("<=", 1.0325, "pass"),  # eGFR >= 40
        (">", 1.0325, "fail"),  # eGFR < 40
        (">=", 1.0325, "review"),  # eGFR <= 40, which allows 40
        (">", 1.0, "review"),  # eGFR < 41.3
        ("<", 1.1, "review"),  # eGFR > 37.5
    ],
)
def test_a_creatinine_comparator_bounds_the_schwartz_egfr_the_other_way(comparator, creatinine, expected):
    facts = [lab(CREATININE, creatinine, "mg/dL", comparator=comparator), lab(HEIGHT, 100, "cm")]
    assert verdict("EXC-CRCL", facts) == expected


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        ("<", 5, "pass"), ("<=", 4.9, "pass"), ("<=", 5, "review"), ("<", 5.1, "review"),
        (">=", 25, "fail"), (">", 25, "fail"), (">", 24.9, "review"), (">=", 24.9, "review"),
    ],
)
def test_hcg_limits_read_comparators_alike(comparator, value, expected):
    menarche = score("menarche", flag=True)
    hcg = lab("21198-7", value, "[IU]/L", comparator=comparator)
    girl = child(13, sex=Sex.FEMALE)
    assert verdict("INC-WOCBP-HCG", [menarche, hcg], profile=girl) == expected


def test_a_comparator_that_allows_the_threshold_itself_does_not_fail_and_says_why():
    result = criterion(screen([lab(LYMPHOCYTES, 0.5, "10*9/L", comparator="<=")]), "EXC-ALC")
    assert result.verdict.value == "review"
    assert result.reason == (
        "Lymphocytes <=0.5 ×10⁹/L on 2026-12-01: the result allows any value up to and including "
        "0.5 ×10⁹/L, so it does not show whether it is below 0.5 ×10⁹/L: check the exact value with the lab"
    )
    assert result.evidence[0].resource.startswith("Observation/")


def test_haemoglobin_up_to_80_g_l_is_reviewed_against_8_g_dl_and_shows_both_units():
    result = criterion(screen([lab(HAEMOGLOBIN, 80, "g/L", comparator="<=")]), "EXC-HB")
    assert result.verdict.value == "review"
    assert result.reason.startswith("Haemoglobin <=80 g/L (<=8 g/dL) on 2026-12-01")
    assert "allows any value up to and including 8 g/dL" in result.reason
    assert "below 8 g/dL" in result.reason


def test_below_9_against_below_8_is_reviewed_and_says_which_values_it_allows():
    result = criterion(screen([lab(HAEMOGLOBIN, 9, "g/dL", comparator="<")]), "EXC-HB")
    assert result.verdict.value == "review"
    assert "allows any value below 9 g/dL" in result.reason


@pytest.mark.parametrize(
    ("facts", "cid", "expected"),
    [
        ([lab(LYMPHOCYTES, 0.3, "10*9/L", comparator="<")], "EXC-ALC", "fail"),
        ([lab(HAEMOGLOBIN, 12, "g/dL", comparator=">")], "EXC-HB", "pass"),
    ],
    ids=["<0.3 is below 0.5", ">12 is not below 8"],
)
def test_a_comparator_wholly_on_one_side_decides(facts, cid, expected):
    result = criterion(screen(facts), cid)
    assert result.verdict.value == expected
    assert "allows" not in result.reason


def test_a_derived_count_whose_parts_bound_it_both_ways_is_reviewed():
    percent = lab("736-9", 10, "%", comparator="<", sample="s1")
    wbc = lab("6690-2", 5, "10*9/L", comparator=">", sample="s1")
    result = criterion(screen([percent, wbc]), "EXC-ALC")
    assert result.verdict.value == "review"
    assert "allows values on either side" in result.reason


def test_a_weakness_score_that_allows_both_sides_names_its_values():
    mmt8 = replace(score("MMT8", 74), comparator="<=")
    result = criterion(screen([mmt8, score("CMAS", 50)]), "INC-WEAKNESS")
    assert result.verdict.value == "review"
    assert "MMT8 <=74" in result.reason and "allows any value up to and including 74" in result.reason


def test_a_weakness_score_below_its_threshold_passes_whatever_the_other_says():
    cmas = replace(score("CMAS", 45), comparator="<")
    assert verdict("INC-WEAKNESS", [cmas, replace(score("MMT8", 74), comparator="<=")]) == "pass"


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [(None, 40, False), (None, 40.5, True), (">", 40, True), (">=", 40, None), ("<", 40, False),
     ("<", 41, None), ("<=", 40, False), ("<=", 41, None), (">", 39, None)],
)
def test_above_is_the_mirror_of_below(comparator, value, expected):
    assert above(value, comparator, 40) is expected


@pytest.mark.parametrize(
    ("comparator", "expected"),
    [("<", "any value below 9 g/dL"), ("<=", "any value up to and including 9 g/dL"),
     (">", "any value above 9 g/dL"), (">=", "9 g/dL or any value above it"), (None, "exactly 9 g/dL")],
)
def test_the_allowed_values_in_words(comparator, expected):
    assert str(allowed(comparator, "9 g/dL")) == expected


def test_a_low_titre_reading_that_a_comparator_leaves_open_is_reviewed():
    protocol = load_protocol()
    protocol = protocol.model_copy(
        update={"choices": protocol.choices.model_copy(update={"antiphospholipid_low_titre": "review"})}
    )
    negatives = [lab("3282-1", answer=NEG), lab("44448-9", answer=NEG)]
    straddling = lab("3181-5", 45, "[GPL'U]/mL", comparator="<=", answer=POS)
    found = finding("EXC-APL", [*negatives, straddling], protocol=protocol)
    assert found.verdict.value == "review" and "perhaps low-titre" in found.reason
    high = lab("3181-5", 40, "[GPL'U]/mL", comparator=">", answer=POS)
    assert finding("EXC-APL", [*negatives, high], protocol=protocol).verdict.value == "fail"


# -- Units of weight and height -------------------------------------------------------------------


def prednisolone_started_5_days_ago(dose_mg: float = 60):
    return medicine("H02AB06", on=days_before(5), dose_mg=dose_mg)


@pytest.mark.parametrize(("value", "unit"), [(30, "kg"), (30000, "g"), (66.1387, "[lb_av]")])
def test_weights_in_kg_g_and_pounds_are_read(value, unit):
    # 60 mg/day for 30 kg is 2 mg/kg/day, above the 1 mg/kg/day of the exception.
    result = criterion(screen([prednisolone_started_5_days_ago(), lab(WEIGHT, value, unit)]), "EXC-PRIOR-CS")
    assert result.verdict.value == "pass"
    assert "2.00 mg/kg/day" in result.reason


@pytest.mark.parametrize("unit", ["lb", "[oz_av]", "mg", "kilo"])
def test_a_weight_in_any_other_unit_is_unusable_and_the_reason_names_the_unit(unit):
    result = criterion(screen([prednisolone_started_5_days_ago(), lab(WEIGHT, 30, unit)]), "EXC-PRIOR-CS")
    assert result.verdict.value == "unknown"
    assert f"'{unit}'" in result.reason


@pytest.mark.parametrize(("value", "unit"), [(100, "cm"), (1.0, "m"), (39.3701, "[in_i]")])
def test_heights_in_cm_m_and_inches_are_read(value, unit):
    # 0.413 × 100 cm / 1.0 mg/dL = 41.3
    facts = [lab(CREATININE, 1.0, "mg/dL"), lab(HEIGHT, value, unit)]
    result = criterion(screen(facts), "EXC-CRCL")
    assert result.verdict.value == "pass"
    assert "41.3 mL/min/1.73 m²" in result.reason


@pytest.mark.parametrize("unit", ["mm", "in", "[ft_i]", "km"])
def test_a_height_in_any_other_unit_is_unusable_and_the_reason_names_the_unit(unit):
    result = criterion(screen([lab(CREATININE, 1.0, "mg/dL"), lab(HEIGHT, 1000, unit)]), "EXC-CRCL")
    assert result.verdict.value == "unknown"
    assert f"'{unit}'" in result.reason


@pytest.mark.parametrize(("height", "weight"), [((1000, "mm"), (27, "kg")), ((120, "cm"), (60, "lb"))])
def test_a_body_surface_from_an_unusable_height_or_weight_is_unknown_and_named(height, weight):
    facts = [lab(MEASURED_CLEARANCE, 22, "mL/min"), lab(HEIGHT, *height), lab(WEIGHT, *weight)]
    result = criterion(screen(facts), "EXC-CRCL")
    assert result.verdict.value == "unknown"
    unusable = height[1] if height[1] == "mm" else weight[1]
    assert f"'{unusable}'" in result.reason


def test_a_body_surface_from_metres_and_pounds_normalises_the_clearance():
    # 1.2 m and 59.5248 lb are 120 cm and 27 kg: BSA 0.95 m², 22 mL/min × 1.73 / 0.9487 = 40.12
    facts = [lab(MEASURED_CLEARANCE, 22, "mL/min"), lab(HEIGHT, 1.2, "m"), lab(WEIGHT, 59.5248, "[lb_av]")]
    result = criterion(screen(facts), "EXC-CRCL")
    assert result.verdict.value == "pass" and "0.95 m²" in result.reason


# -- VZV ------------------------------------------------------------------------------------------


def test_a_positive_vzv_igg_never_goes_stale():
    old = lab(VZV, answer=POS, on=days_before(3000))
    assert finding("INC-VZV-SERO", [old]).verdict.value == "pass"
    assert finding("INC-VZV-SERO", [old]).changes_on is None


def test_a_fresh_negative_after_a_positive_fails_and_names_both():
    positive = lab(VZV, answer=POS, on=date(2024, 3, 5), source="Observation/vzv-2024")
    negative = lab(VZV, answer=NEG, on=days_before(10), source="Observation/vzv-new")
    result = criterion(screen([positive, negative]), "INC-VZV-SERO")
    assert result.verdict.value == "fail"
    assert result.reason == (
        f"VZV IgG negative on {days_before(10).isoformat()}; the positive VZV IgG of 2024-03-05 no longer "
        "counts, since a later result is negative"
    )
    assert [e.resource for e in result.evidence] == ["Observation/vzv-new", "Observation/vzv-2024"]
    assert finding("INC-VZV-SERO", [positive, negative]).changes_on == day_after(days_before(10), 29)


@pytest.mark.parametrize("negative_age", [28, 29])
def test_the_negative_decides_until_it_goes_stale_then_it_is_unknown_and_names_both(negative_age):
    positive = lab(VZV, answer=POS, on=date(2024, 3, 5))
    negative = lab(VZV, answer=NEG, on=days_before(negative_age))
    result = criterion(screen([positive, negative]), "INC-VZV-SERO")
    assert result.verdict.value == ("fail" if negative_age <= 28 else "unknown")
    assert "2024-03-05" in result.reason and days_before(negative_age).isoformat() in result.reason
    assert "no longer counts" in result.reason
    if negative_age > 28:
        assert "stale" in result.reason


def test_a_negative_alone_names_no_positive():
    result = criterion(screen([lab(VZV, answer=NEG, on=days_before(3))]), "INC-VZV-SERO")
    assert result.reason == f"VZV IgG negative on {days_before(3).isoformat()}"


def test_a_positive_after_a_negative_passes():
    facts = [lab(VZV, answer=NEG, on=days_before(100)), lab(VZV, answer=POS, on=days_before(50))]
    assert verdict("INC-VZV-SERO", facts) == "pass"


# -- Several Consent resources --------------------------------------------------------------------

CONSENTS = [
    ConsentRecord("Consent/given", days_before(20), ConsentState.GIVEN),
    ConsentRecord("Consent/withdrawn", days_before(10), ConsentState.WITHDRAWN, status="inactive"),
    ConsentRecord("Consent/given-again", days_before(5), ConsentState.GIVEN),
    ConsentRecord("Consent/draft", days_before(2), ConsentState.REFUSED, status="draft"),
    ConsentRecord("Consent/proposed", days_before(1), ConsentState.REFUSED, status="proposed"),
]


@pytest.mark.parametrize("order", list(permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_the_consent_with_the_latest_date_decides_in_every_order(order):
    # Four of the five, in every order and with arrival order as revision: the draft and proposed
    # consents are newer, but record no decision.
    picked = [CONSENTS[i] for i in (1, 2, 3, 4)]
    facts = [replace(picked[i], revision=n) for n, i in enumerate(order)]
    result = criterion(screen(facts), "INC-CONSENT")
    assert result.verdict.value == "pass"
    assert [e.resource for e in result.evidence] == ["Consent/given-again"]


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_a_later_withdrawal_decides_in_every_order(order):
    picked = [CONSENTS[0], CONSENTS[1], CONSENTS[3]]
    result = criterion(screen([picked[i] for i in order]), "INC-CONSENT")
    assert result.verdict.value == "fail"
    assert result.reason == f"Consent withdrawn on {days_before(10).isoformat()}"


@pytest.mark.parametrize("status", ["draft", "proposed"])
def test_a_draft_or_proposed_consent_alone_is_no_consent(status):
    record = ConsentRecord("Consent/only", AS_OF, ConsentState.GIVEN, status=status)
    assert criterion(screen([record]), "INC-CONSENT").reason == "No consent recorded"


def test_on_the_same_day_the_later_time_decides():
    morning = ConsentRecord("Consent/b", AS_OF, ConsentState.GIVEN, seq="2026-12-01T08:00:00Z")
    evening = ConsentRecord("Consent/a", AS_OF, ConsentState.REFUSED, status="rejected",
                            seq="2026-12-01T18:00:00Z")
    for order in ([morning, evening], [evening, morning]):
        assert verdict("INC-CONSENT", order) == "fail"


# -- End to end, through `myocit screen` ----------------------------------------------------------

PID = "p-clar"
TODAY = AS_OF.isoformat()


def myocit_screen(tmp_path, resources: list[dict], as_of: date = AS_OF) -> dict:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(fhir.bundle(resources, "collection")))
    run = CliRunner().invoke(app, ["screen", str(path), "--as-of", as_of.isoformat()])
    assert run.exit_code == 0, run.output
    return {c["id"]: c for c in json.loads(run.stdout)["criteria"]}


def with_comparator(resource: dict, comparator: str) -> dict:
    resource["valueQuantity"]["comparator"] = comparator
    return resource


def test_screen_reviews_a_haemoglobin_up_to_80_g_l(tmp_path):
    hb = with_comparator(fhir.quantity(PID, HAEMOGLOBIN, 80, "g/L", TODAY), "<=")
    found = myocit_screen(tmp_path, [fhir.patient(PID), hb])["EXC-HB"]
    assert found["verdict"] == "review"
    assert "allows any value up to and including 8 g/dL" in found["reason"]
    lower = with_comparator(fhir.quantity(PID, HAEMOGLOBIN, 79, "g/L", TODAY), "<=")
    assert myocit_screen(tmp_path, [fhir.patient(PID), lower])["EXC-HB"]["verdict"] == "fail"


@pytest.mark.parametrize(("retracted_at", "expected"), [(0, "pass"), (1, "pass"), (2, "unknown")])
def test_screen_lets_the_latest_version_in_the_bundle_govern(tmp_path, retracted_at, expected):
    statuses = ["final", "amended", "corrected"]
    statuses[retracted_at] = "entered-in-error"
    values = [0.4, 0.45, 0.6]
    resources = [fhir.patient(PID)] + [
        fhir.quantity(PID, LYMPHOCYTES, v, "10*9/L", TODAY, oid="obs-alc", status=s)
        for s, v in zip(statuses, values)
    ]
    found = myocit_screen(tmp_path, resources)["EXC-ALC"]
    assert found["verdict"] == expected
    if expected == "unknown":
        assert found["evidence"] == []


def test_screen_voids_the_components_of_a_retracted_panel(tmp_path):
    panel = {
        "resourceType": "Observation", "id": "cbc", "status": "final",
        "code": {"coding": [{"system": fhir.LOINC, "code": "58410-2"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": TODAY,
        "component": [{"code": {"coding": [{"system": fhir.LOINC, "code": LYMPHOCYTES}]},
                       "valueQuantity": {"value": 0.4, "unit": "10*9/L",
                                         "system": "http://unitsofmeasure.org", "code": "10*9/L"}}],
    }
    retraction = {k: v for k, v in panel.items() if k != "component"} | {"status": "entered-in-error"}
    assert myocit_screen(tmp_path, [fhir.patient(PID), panel])["EXC-ALC"]["verdict"] == "fail"
    assert myocit_screen(tmp_path, [fhir.patient(PID), panel, retraction])["EXC-ALC"]["verdict"] == "unknown"


def test_screen_reviews_a_reactive_hiv_screen_and_fails_a_confirmed_one(tmp_path):
    reactive = fhir.coded(PID, HIV_SCREEN, "11214006", TODAY)  # SNOMED Reactive
    assert myocit_screen(tmp_path, [fhir.patient(PID), reactive])["EXC-INF-HIV"]["verdict"] == "review"
    confirmed = fhir.coded(PID, HIV_CONFIRMATION, fhir.POSITIVE, TODAY)
    found = myocit_screen(tmp_path, [fhir.patient(PID), reactive, confirmed])["EXC-INF-HIV"]
    assert found["verdict"] == "fail" and found["until"] is None


def test_screen_fails_an_active_hsv_episode_without_until(tmp_path):
    condition = {
        "resourceType": "Condition", "id": "hsv", "subject": {"reference": f"Patient/{PID}"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "recurrence"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "B00.1"}]},
        "onsetDateTime": days_before(120).isoformat(),
    }
    found = myocit_screen(tmp_path, [fhir.patient(PID), condition])["EXC-HSV-12W"]
    assert found["verdict"] == "fail" and found["until"] is None
    abated = condition | {"clinicalStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]},
        "abatementDateTime": days_before(20).isoformat()}
    found = myocit_screen(tmp_path, [fhir.patient(PID), condition, abated])["EXC-HSV-12W"]
    assert found["verdict"] == "fail" and found["until"] == day_after(days_before(20), 85).isoformat()


def test_screen_counts_a_29_february_birthday_on_28_february(tmp_path):
    patient = fhir.patient(PID, birth="2020-02-29")
    before = myocit_screen(tmp_path, [patient], as_of=date(2023, 2, 27))["INC-AGE"]
    assert before["verdict"] == "fail" and before["until"] == "2023-02-28"
    assert myocit_screen(tmp_path, [patient], as_of=date(2023, 2, 28))["INC-AGE"]["verdict"] == "pass"


def test_screen_reads_heights_in_inches_and_names_an_unusable_unit(tmp_path):
    creatinine = fhir.quantity(PID, CREATININE, 1.0, "mg/dL", TODAY)
    inches = fhir.quantity(PID, HEIGHT, 39.3701, "[in_i]", TODAY)
    assert myocit_screen(tmp_path, [fhir.patient(PID), creatinine, inches])["EXC-CRCL"]["verdict"] == "pass"
    feet = fhir.quantity(PID, HEIGHT, 3.28, "[ft_i]", TODAY)
    found = myocit_screen(tmp_path, [fhir.patient(PID), creatinine, feet])["EXC-CRCL"]
    assert found["verdict"] == "unknown" and "'[ft_i]'" in found["reason"]


@pytest.mark.parametrize("order", list(permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_screen_lets_the_latest_consent_decide_in_every_order(tmp_path, order):
    consents = [
        fhir.consent(PID, "2026-11-01T09:00:00+01:00", "active"),
        fhir.consent(PID, "2026-11-20T09:00:00+01:00", "inactive"),
        fhir.consent(PID, "2026-11-25T09:00:00+01:00", "draft"),
        fhir.consent(PID, "2026-11-28T09:00:00+01:00", "proposed"),
    ]
    found = myocit_screen(tmp_path, [fhir.patient(PID), *(consents[i] for i in order)])["INC-CONSENT"]
    assert found["verdict"] == "fail"
    assert found["reason"] == "Consent withdrawn on 2026-11-20"


def test_screen_reads_an_impossible_height_and_weight_as_unusable_not_a_crash(tmp_path):
    """A measured clearance with height and weight of 1e-6 divided by a body surface rounded to zero."""
    resources = [fhir.patient(PID), fhir.quantity(PID, "2164-2", 22, "mL/min", TODAY, oid="crcl"),
                 fhir.quantity(PID, "8302-2", 1e-6, "cm", TODAY, oid="h"),
                 fhir.quantity(PID, "29463-7", 1e-6, "kg", TODAY, oid="w")]
    found = myocit_screen(tmp_path, resources)["EXC-CRCL"]
    assert found["verdict"] == "unknown"
    assert "is not a plausible height" in found["reason"]
