"""A reason shows a unit only when it has the shape of a UCUM code: a lab's free text (HL7 OBX-6's text,
FHIR Quantity.unit without a code) may carry anything, and reasons reach alert emails and webhooks."""

import pytest

from domain.facts import Quantity
from domain.ucum import shown_unit, unit_named
from tests.builders import criterion, lab, screen


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        ("10*9/L", "10*9/L"), ("G/L", "G/L"), ("g/dL", "g/dL"), ("umol/L", "umol/L"), ("µmol/L", "µmol/L"),
        ("mL/min/{1.73_m2}", "mL/min/{1.73_m2}"), ("m[IU]/mL", "m[IU]/mL"), ("%", "%"), ("cm", "cm"),
        ("[lb_av]", "[lb_av]"), ("{cells}/uL", "{cells}/uL"), ("kg", "kg"), (" mg/dL ", "mg/dL"),
        ("cells per microlitre", None), ("Dr Martin", None), ("MARTIN", None), ("see comment", None),
        ("{Seen by Dr Martin}", None), ("{drmartinsunits}/L", None), ("x" * 30 + "/L", None), ("", None),
        ("mg/dL<script>", None),
    ],
)
def test_a_unit_is_shown_only_with_the_shape_of_a_ucum_code(unit, shown):
    assert shown_unit(unit) == shown


def test_a_quantity_in_free_text_is_written_without_its_unit():
    assert str(Quantity(1.8, "G/L")) == "1.8 G/L"
    assert str(Quantity(1.8, "cellules par microlitre, Dr Martin")) == "1.8"
    assert str(Quantity(0.5, "Martinez", "<")) == "<0.5"


def test_a_unit_that_cannot_be_converted_is_named_only_when_it_is_a_code():
    assert unit_named("mmol/mol") == "'mmol/mol'"
    assert unit_named("") == "no unit"
    assert "Martin" not in unit_named("unités du Dr Martin")


def test_a_reason_never_carries_a_free_text_unit():
    result = criterion(screen([lab("26499-4", 4.2, "unités du Dr Martin")]), "EXC-ANC")
    assert result.verdict.value == "unknown"
    assert "Martin" not in result.reason and "free text" in result.reason
