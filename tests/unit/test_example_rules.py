"""The shape every criterion test follows: the boundary days and values, in each accepted unit."""

from datetime import date

import pytest

from domain.facts import PatientProfile
from tests.builders import AS_OF, child, criterion, days_before, lab, screen, vaccine, verdict


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(7.99, "g/dL", "fail"), (8.0, "g/dL", "pass"), (8.01, "g/dL", "pass"),
     (79.9, "g/L", "fail"), (80, "g/L", "pass"), (4.97, "mmol/L", "pass"), (4.96, "mmol/L", "fail")],
)
def test_haemoglobin_below_8_g_dl_excludes(value, unit, expected):
    assert verdict("EXC-HB", [lab("718-7", value, unit)]) == expected


def test_haemoglobin_in_an_unknown_unit_is_unknown_and_names_the_unit():
    result = criterion(screen([lab("718-7", 9, "mg/mL")]), "EXC-HB")
    assert result.verdict.value == "unknown"
    assert "mg/mL" in result.reason


@pytest.mark.parametrize(("age_days", "expected"), [(28, "pass"), (29, "pass"), (30, "pass")])
def test_haemoglobin_is_usable_for_28_days(age_days, expected):
    got = verdict("EXC-HB", [lab("718-7", 10, "g/dL", on=days_before(age_days))])
    assert got == ("pass" if age_days <= 28 else "unknown")


@pytest.mark.parametrize(("days", "verdict_expected"), [(0, "fail"), (28, "fail"), (29, "unknown")])
def test_live_vaccine_excludes_for_28_days_inclusive(days, verdict_expected):
    result = criterion(screen([vaccine("03", on=days_before(days))]), "EXC-LIVE-VACCINE")
    assert result.verdict.value == verdict_expected
    if verdict_expected == "fail":
        assert result.until == date.fromordinal(days_before(days).toordinal() + 29)


def test_age_passes_from_the_third_birthday_to_the_day_before_the_nineteenth():
    born = date(2010, 6, 15)
    profile = child(birth=born)
    assert verdict("INC-AGE", profile=profile, as_of=date(2013, 6, 14)) == "fail"
    assert verdict("INC-AGE", profile=profile, as_of=date(2013, 6, 15)) == "pass"
    assert verdict("INC-AGE", profile=profile, as_of=date(2029, 6, 14)) == "pass"
    assert verdict("INC-AGE", profile=profile, as_of=date(2029, 6, 15)) == "fail"
    assert criterion(screen(profile=profile, as_of=date(2013, 6, 14)), "INC-AGE").until == date(2013, 6, 15)
    assert AS_OF


@pytest.mark.parametrize(("as_of", "expected"), [(date(2013, 6, 14), "fail"), (date(2020, 1, 1), "pass"),
                                                 (date(2029, 6, 15), "fail")])
def test_age_cites_the_patient_whose_birth_date_it_reads(as_of, expected):
    result = criterion(screen(profile=child(birth=date(2010, 6, 15)), as_of=as_of), "INC-AGE")
    assert result.verdict.value == expected
    assert [e.to_json() for e in result.evidence] == [{"resource": "Patient/p-test", "date": None}]


def test_age_without_a_birth_date_cites_nothing():
    result = criterion(screen(profile=PatientProfile(None)), "INC-AGE")
    assert result.verdict.value == "unknown"
    assert result.evidence == ()
