"""An attestation's reason says what the investigator judged in the protocol's terms: an exclusion
"does not apply" or "applies", an inclusion "is met" or "is not met" (never "met" for an exclusion
that passes, the opposite of what it means)."""

import pytest

from tests.builders import attest, criterion, days_before, screen

ON = days_before(2)


@pytest.mark.parametrize(("cid", "attested", "verdict", "words"), [
    ("EXC-ORAL", "pass", "pass", "does not apply"),
    ("EXC-ORAL", "fail", "fail", "applies"),
    ("EXC-VTE-RISK", "pass", "pass", "does not apply"),
    ("EXC-OTHER-TRIAL", "fail", "fail", "applies"),
    ("INC-JDM-ENMC2018", "pass", "pass", "is met"),
    ("INC-JDM-ENMC2018", "fail", "fail", "is not met"),
])
def test_an_attestation_is_worded_by_the_criterion_kind(cid, attested, verdict, words):
    found = criterion(screen([attest(cid, attested, on=ON)]), cid)
    assert found.verdict == verdict
    assert found.reason == f"Investigator attested that this criterion {words} on {ON.isoformat()}"
