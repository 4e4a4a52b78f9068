"""Bedside Schwartz and measured-clearance normalisation: the arithmetic alone."""

import pytest

from domain.criteria.kidney import bedside_schwartz, inverse_comparator, mosteller_bsa, normalised_clearance


@pytest.mark.parametrize(
    ("height_cm", "creatinine_mg_dl", "expected"),
    [(100, 1.0325, 40.0), (120, 1.239, 40.0), (100, 1.0, 41.3), (150, 0.5, 123.9)],
)
def test_bedside_schwartz_is_k_times_height_over_creatinine(height_cm, creatinine_mg_dl, expected):
    assert bedside_schwartz(height_cm, creatinine_mg_dl, 0.413) == expected


def test_values_equal_on_paper_are_not_pushed_below_by_rounding_noise():
    assert bedside_schwartz(100, 1.0325, 0.413) >= 40


@pytest.mark.parametrize(("height_cm", "creatinine_mg_dl"), [(0, 1.0), (100, 0), (-1, 1.0), (100, -0.5)])
def test_bedside_schwartz_needs_positive_inputs(height_cm, creatinine_mg_dl):
    assert bedside_schwartz(height_cm, creatinine_mg_dl, 0.413) is None


def test_mosteller_body_surface_is_the_root_of_height_times_weight_over_3600():
    assert mosteller_bsa(180, 80) == pytest.approx(2.0)
    assert mosteller_bsa(0, 30) is None


def test_a_measured_clearance_is_scaled_to_1_73_square_metres():
    assert normalised_clearance(20, 0.865) == pytest.approx(40.0)
    assert normalised_clearance(40, 1.73) == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("given", "expected"), [("<", ">"), ("<=", ">="), (">", "<"), (">=", "<="), (None, None)]
)
def test_a_creatinine_bound_becomes_the_opposite_bound_on_the_egfr(given, expected):
    assert inverse_comparator(given) == expected


def test_a_body_surface_rounded_to_nothing_is_no_body_surface():
    assert mosteller_bsa(1e-6, 1e-6) is None
