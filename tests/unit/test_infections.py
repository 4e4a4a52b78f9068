"""Infection exclusions: the attested umbrella, hepatitis B and C, HIV and tuberculosis."""

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.facts import Qualitative
from tests.builders import (
    attest,
    criterion,
    days_before,
    diagnosis,
    finding,
    lab,
    medicine,
    screen,
    verdict,
)

POS, NEG, EQ = Qualitative.POSITIVE, Qualitative.NEGATIVE, Qualitative.EQUIVOCAL


# EXC-INF-ACTIVE -----------------------------------------------------------------------------------


def test_an_infection_still_active_excludes_without_an_end_date():
    result = criterion(
        screen([diagnosis("J18.9", on=days_before(3)), diagnosis("A41.9", on=days_before(3))]),
        "EXC-INF-ACTIVE",
    )
    assert result.verdict.value == "fail"
    assert result.until is None


@pytest.mark.parametrize("status", ["active", "recurrence", "relapse"])
def test_an_infection_recorded_as_active_recurring_or_relapsing_excludes(status):
    assert verdict("EXC-INF-ACTIVE", [diagnosis("B02.9", on=days_before(200), status=status)]) == "fail"


@pytest.mark.parametrize(("abated_days", "expected"), [(0, "fail"), (28, "fail"), (29, "unknown")])
def test_an_infection_ended_within_28_days_excludes_until_the_window_ends(abated_days, expected):
    abated = days_before(abated_days)
    result = criterion(screen([diagnosis("A09", on=days_before(40), abated=abated)]), "EXC-INF-ACTIVE")
    assert result.verdict.value == expected
    if expected == "fail":
        assert result.until == abated + timedelta(days=29)


def test_a_resolved_infection_without_an_abatement_date_counts_from_its_onset():
    result = criterion(screen([diagnosis("B34.9", on=days_before(10), status="resolved")]), "EXC-INF-ACTIVE")
    assert result.verdict.value == "fail"
    assert result.until == days_before(10) + timedelta(days=29)


def test_recorded_infection_data_outranks_an_attestation_that_passes():
    facts = [diagnosis("A09", on=days_before(20), abated=days_before(5)), attest("EXC-INF-ACTIVE")]
    assert verdict("EXC-INF-ACTIVE", facts) == "fail"


@pytest.mark.parametrize(("ended_days", "expected"), [(0, "review"), (28, "review"), (29, "unknown")])
def test_an_anti_infective_within_28_days_asks_for_review(ended_days, expected):
    facts = [medicine("J01CA04", on=days_before(40), until=days_before(ended_days))]
    assert verdict("EXC-INF-ACTIVE", facts) == expected


def test_an_attestation_after_an_anti_infective_settles_the_review():
    facts = [medicine("J01CA04", on=days_before(10), until=days_before(3)), attest("EXC-INF-ACTIVE")]
    assert verdict("EXC-INF-ACTIVE", facts) == "pass"


def test_without_infection_data_the_investigator_attests():
    assert verdict("EXC-INF-ACTIVE") == "unknown"
    assert verdict("EXC-INF-ACTIVE", [attest("EXC-INF-ACTIVE")]) == "pass"
    assert verdict("EXC-INF-ACTIVE", [attest("EXC-INF-ACTIVE", "fail")]) == "fail"


# EXC-INF-HBV --------------------------------------------------------------------------------------

HBSAG, ANTI_HBC, HBV_DNA = "5196-1", "16933-4", "42595-9"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([lab(HBSAG, answer=POS)], "fail"),
        ([lab(HBSAG, answer=NEG), lab(HBV_DNA, 120, "[IU]/mL")], "fail"),
        ([lab(HBSAG, answer=NEG)], "pass"),
        ([lab(HBSAG, answer=NEG), lab(ANTI_HBC, answer=NEG)], "pass"),
        ([lab(HBSAG, answer=EQ)], "review"),
        (
            [lab(HBSAG, answer=NEG), lab(ANTI_HBC, answer=POS), lab(HBV_DNA, 10, "[IU]/mL", comparator="<")],
            "review",
        ),
        ([lab(HBSAG, answer=NEG), lab(ANTI_HBC, answer=POS)], "unknown"),
        ([lab(ANTI_HBC, answer=POS), lab(HBV_DNA, answer=NEG)], "unknown"),
        ([lab(HBSAG, answer=NEG), lab(ANTI_HBC, answer=EQ)], "review"),
        ([lab(ANTI_HBC, answer=NEG)], "unknown"),
        ([], "unknown"),
    ],
)
def test_hepatitis_b_reading(facts, expected):
    assert verdict("EXC-INF-HBV", facts) == expected


def test_an_active_hepatitis_b_diagnosis_excludes():
    assert verdict("EXC-INF-HBV", [diagnosis("B18.1", on=days_before(400)), lab(HBSAG, answer=NEG)]) == "fail"
    assert (
        verdict(
            "EXC-INF-HBV",
            [diagnosis("B16.9", on=days_before(400), abated=days_before(300)), lab(HBSAG, answer=NEG)],
        )
        == "pass"
    )


@pytest.mark.parametrize(("age_days", "expected"), [(28, "fail"), (29, "unknown")])
def test_hepatitis_b_tests_are_usable_for_28_days(age_days, expected):
    assert verdict("EXC-INF-HBV", [lab(HBSAG, answer=POS, on=days_before(age_days))]) == expected


@pytest.mark.parametrize(("gap_days", "expected"), [(90, "review"), (91, "unknown")])
def test_a_positive_anti_hbc_soon_after_immunoglobulins_may_be_passive(gap_days, expected):
    sampled = days_before(2)
    facts = [
        lab(HBSAG, answer=NEG, on=sampled),
        lab(ANTI_HBC, answer=POS, on=sampled),
        medicine(
            "J06BA02", on=sampled - timedelta(days=gap_days + 1), until=sampled - timedelta(days=gap_days)
        ),
    ]
    result = criterion(screen(facts), "EXC-INF-HBV")
    assert result.verdict.value == expected
    if expected == "review":
        assert "passive" in result.reason


# Passive antibodies: one reading for every serology (catalogue §6(d)) ------------------------------

VZV_IGG = "19162-7"
SAMPLED = days_before(2)


def _ivig(*, started: int, ended: int | None = None, status: str):
    """Immunoglobulins started ``started`` days before the sample, ended ``ended`` days before it."""
    until = SAMPLED - timedelta(days=ended) if ended is not None else None
    return medicine("J06BA02", on=SAMPLED - timedelta(days=started), until=until, status=status)


def _suspect_serologies(exposure) -> dict[str, bool]:
    """Whether each serology that asks about passive antibodies finds its sample suspect."""
    hbv = criterion(
        screen([lab(HBSAG, answer=NEG, on=SAMPLED), lab(ANTI_HBC, answer=POS, on=SAMPLED), exposure]),
        "EXC-INF-HBV",
    )
    vzv = criterion(screen([lab(VZV_IGG, answer=POS, on=SAMPLED), exposure]), "INC-VZV-SERO")
    return {
        "EXC-INF-HBV": hbv.verdict.value == "review" and "passive" in hbv.reason,
        "INC-VZV-SERO": vzv.verdict.value == "review" and "passive" in vzv.reason,
    }


@pytest.mark.parametrize(
    ("exposure", "suspect"),
    [
        # A single infusion without an end date lasted its start day.
        (_ivig(started=730, status="completed"), False),
        (_ivig(started=91, status="completed"), False),
        (_ivig(started=90, status="completed"), True),
        (_ivig(started=0, status="completed"), True),
        # An ongoing course without an end date lasts until the sample.
        (_ivig(started=730, status="active"), True),
        # An end date is the last day, whatever the status.
        (_ivig(started=400, ended=90, status="completed"), True),
        (_ivig(started=400, ended=91, status="completed"), False),
        (_ivig(started=400, ended=91, status="active"), False),
        (_ivig(started=10, ended=-5, status="active"), True),
        # Given after the sample: it cannot explain it.
        (_ivig(started=-1, status="active"), False),
    ],
)
def test_every_serology_reads_passive_antibodies_the_same_way(exposure, suspect):
    assert _suspect_serologies(exposure) == {"EXC-INF-HBV": suspect, "INC-VZV-SERO": suspect}


def test_a_hepatitis_b_pass_changes_when_hbsag_goes_stale():
    assert finding("EXC-INF-HBV", [lab(HBSAG, answer=NEG, on=days_before(5))]).changes_on == days_before(
        5
    ) + timedelta(days=29)


# EXC-INF-HCV --------------------------------------------------------------------------------------

HCV_AB, HCV_RNA = "13955-0", "11259-9"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([lab(HCV_RNA, answer=POS)], "fail"),
        ([lab("11011-4", 800, "[IU]/mL")], "fail"),
        ([lab(HCV_AB, answer=POS), lab(HCV_RNA, answer=NEG)], "review"),
        ([lab(HCV_AB, answer=POS)], "unknown"),
        ([lab(HCV_AB, answer=NEG)], "pass"),
        ([lab(HCV_AB, answer=EQ)], "review"),
        ([lab(HCV_AB, 1.2, "{s_co_ratio}")], "review"),
        ([lab(HCV_RNA, answer=NEG)], "pass"),
        ([], "unknown"),
    ],
)
def test_hepatitis_c_reading(facts, expected):
    assert verdict("EXC-INF-HCV", facts) == expected


def test_an_active_hepatitis_c_diagnosis_excludes():
    assert (
        verdict("EXC-INF-HCV", [diagnosis("B18.2", on=days_before(100)), lab(HCV_AB, answer=NEG)]) == "fail"
    )


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_hepatitis_c_tests_are_usable_for_28_days(age_days, expected):
    assert verdict("EXC-INF-HCV", [lab(HCV_AB, answer=NEG, on=days_before(age_days))]) == expected


# EXC-INF-HIV --------------------------------------------------------------------------------------

HIV_SCREEN, HIV_CONFIRM = "56888-1", "69668-3"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([lab(HIV_SCREEN, answer=NEG)], "pass"),
        ([lab(HIV_SCREEN, answer=POS)], "review"),
        ([lab(HIV_SCREEN, answer=POS), lab(HIV_CONFIRM, answer=POS)], "fail"),
        ([lab(HIV_SCREEN, answer=POS), lab(HIV_CONFIRM, answer=NEG)], "review"),
        ([lab(HIV_SCREEN, answer=EQ)], "review"),
        ([lab(HIV_CONFIRM, answer=EQ)], "review"),
        ([], "unknown"),
    ],
)
def test_hiv_reading(facts, expected):
    assert verdict("EXC-INF-HIV", facts) == expected


def test_an_hiv_diagnosis_excludes():
    assert (
        verdict("EXC-INF-HIV", [diagnosis("Z21", on=days_before(1000)), lab(HIV_SCREEN, answer=NEG)])
        == "fail"
    )


def test_a_confirmed_hiv_infection_excludes_whatever_its_age():
    assert verdict("EXC-INF-HIV", [lab(HIV_CONFIRM, answer=POS, on=days_before(400))]) == "fail"


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "unknown")])
def test_an_hiv_screen_is_usable_for_28_days(age_days, expected):
    assert verdict("EXC-INF-HIV", [lab(HIV_SCREEN, answer=NEG, on=days_before(age_days))]) == expected


# EXC-INF-TB ---------------------------------------------------------------------------------------

IGRA = "71773-6"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([lab(IGRA, answer=NEG)], "pass"),
        ([lab(IGRA, answer=POS)], "review"),
        ([lab(IGRA, answer=EQ)], "review"),
        ([lab("46217-6", 0.8, "[IU]/mL")], "review"),
        ([diagnosis("A15.0", on=days_before(20)), lab(IGRA, answer=NEG)], "fail"),
        ([diagnosis("Z22.7", on=days_before(200)), lab(IGRA, answer=NEG)], "review"),
        ([diagnosis("A15.0", on=days_before(900), abated=days_before(500)), lab(IGRA, answer=NEG)], "review"),
        ([], "unknown"),
    ],
)
def test_tuberculosis_reading(facts, expected):
    assert verdict("EXC-INF-TB", facts) == expected


@pytest.mark.parametrize(("age_days", "expected"), [(90, "pass"), (91, "unknown")])
def test_an_igra_is_usable_for_90_days(age_days, expected):
    assert verdict("EXC-INF-TB", [lab(IGRA, answer=NEG, on=days_before(age_days))]) == expected


def test_an_igra_pass_changes_when_it_goes_stale():
    assert finding("EXC-INF-TB", [lab(IGRA, answer=NEG, on=days_before(10))]).changes_on == days_before(
        10
    ) + timedelta(days=91)


def test_a_result_in_free_text_only_needs_review():
    assert verdict("EXC-INF-TB", [replace(lab(IGRA), text="see report")]) == "review"


def test_an_empty_result_is_not_usable():
    result = criterion(screen([lab(HBSAG)]), "EXC-INF-HBV")
    assert result.verdict.value == "unknown"
    assert "carries no value" in result.reason
