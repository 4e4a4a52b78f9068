"""A medicine's daily dose in mg: the arithmetic alone, whatever format the dose came in."""

import pytest

from domain.doses import administrations_per_day, daily_mg, days_of, is_mg_per_day, milligrams


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(20, "mg", 20.0), (1, "g", 1000.0), (1, "G", 1000.0), (500, "ug", 0.5), (500, "mcg", 0.5),
     (500, "µg", 0.5), (0.001, "kg", 1000.0), (5, "mL", None), (2, "{tablet}", None)],
)
def test_a_mass_in_any_unit_is_given_in_mg_and_anything_else_is_not_a_mass(value, unit, expected):
    assert milligrams(value, unit) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("unit", "expected"), [("mg/d", True), ("MG/D", True), ("mg/24.h", True),
                                                 ("mg/(24.h)", True), ("mg/h", False), ("mg", False)])
def test_only_a_rate_in_mg_a_day_is_a_daily_dose_as_written(unit, expected):
    assert is_mg_per_day(unit) is expected


@pytest.mark.parametrize(
    ("frequency", "period", "period_unit", "expected"),
    [(2, None, None, 2.0), (1, 1, "d", 1.0), (3, 1, None, 3.0), (1, 8, "h", 3.0), (1, 1, "wk", 1 / 7),
     (1, 2, "d", 0.5), (1, 1, "mo", 1 / 30), (1, 1, "a", 1 / 365), (1, 30, "min", 48.0),
     (1, 1, "fortnight", 1.0), (1, 0, "d", None)],
)
def test_a_frequency_over_a_period_is_administrations_a_day(frequency, period, period_unit, expected):
    found = administrations_per_day(frequency, period, period_unit)
    assert found == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("dose_mg", "per_day", "expected"), [(10, 2.0, 20.0), (10, 0.5, 5.0), (10, None, 10.0)])
def test_a_dose_is_taken_once_a_day_when_how_often_is_not_said(dose_mg, per_day, expected):
    assert daily_mg(dose_mg, per_day) == expected


@pytest.mark.parametrize(("value", "unit", "expected"), [(2, "wk", 14.0), (3, "d", 3.0), (3, None, 3.0),
                                                          (48, "h", 2.0), (1, "a", 365.0), (5, "doses", 5.0)])
def test_a_duration_is_counted_in_days_and_an_unknown_unit_as_days(value, unit, expected):
    assert days_of(value, unit) == pytest.approx(expected)
