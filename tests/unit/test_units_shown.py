"""One human form of a unit (``domain.units.human``), the same in reasons, on pages and in e-mails."""

from datetime import datetime, timezone

import pytest

from delivery.messages import AlertContent, build
from domain.facts import Quantity
from domain.units import human, in_human_units


@pytest.mark.parametrize(("sent", "shown"), [
    ("10*9/L", "×10⁹/L"),
    ("10^9/L", "×10⁹/L"),
    ("10*3/uL", "×10³/µL"),
    ("umol/L", "µmol/L"),
    ("[iU]/L", "IU/L"),
    ("m[IU]/mL", "mIU/mL"),
    ("mL/min/{1.73_m2}", "mL/min/1.73 m²"),
    ("[lb_av]", "lb"),
    ("{cells}/uL", "cells/µL"),
    ("/mm3", "/mm³"),
    ("g/dL", "g/dL"),
    ("G/L", "G/L"),
    ("kg", "kg"),
    ("mm", "mm"),            # a unit that cannot be converted is still named as it came
    ("[ft_i]", "[ft_i]"),
])
def test_a_unit_is_written_as_a_clinician_writes_it(sent, shown):
    assert human(sent) == shown


def test_a_quantity_in_a_reason_is_in_the_human_form():
    assert str(Quantity(0.4, "10*9/L", "<")) == "<0.4 ×10⁹/L"


def test_a_reason_stored_with_raw_units_reads_like_a_new_one():
    stored = "Lymphocytes 0.4 10*9/L on 2026-11-01, below 0.5 ×10⁹/L; creatinine 40 umol/L"
    assert in_human_units(stored) == "Lymphocytes 0.4 ×10⁹/L on 2026-11-01, below 0.5 ×10⁹/L; creatinine 40 µmol/L"


def test_an_alert_email_writes_units_in_the_human_form():
    content = AlertContent(1, "p-1", "eligible", "ineligible", ["EXC-ALC"],
                           [{"id": "EXC-ALC", "verdict": "fail", "reason": "Lymphocytes 0.4 10*9/L on 2026-11-01"}],
                           datetime(2026, 12, 1, tzinfo=timezone.utc))
    message = build(content, "https://myocit.example")
    assert "0.4 ×10⁹/L" in message.text and "10*9" not in message.text
