"""Whatever arrives, the API answers a clear 4xx or a 202, never a 500 (hypothesis-driven)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir_samples import NOT_DETECTED, coded, quantity

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=12)
FIELDS = ["status", "code", "subject", "effectiveDateTime", "valueQuantity", "valueCodeableConcept", "id",
          "resourceType", "interpretation", "specimen"]


def _mutated(resource: dict, field: str, value) -> dict:
    changed = dict(resource)
    if value is None:
        changed.pop(field, None)
    else:
        changed[field] = value
    return changed


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_arbitrary_bodies_get_4xx_not_500(client, tokens, body):
    for path in ("/fhir", "/fhir/Observation", "/hl7v2"):
        response = client.post(path, content=body, headers={**tokens["lab"], "Content-Type": "application/fhir+json"})
        assert response.status_code < 500, (path, response.text[:300])


@FUZZ
@given(field=st.sampled_from(FIELDS), value=json_values, kind=st.sampled_from(["batch", "transaction", "collection"]))
def test_bundles_with_one_damaged_field_get_4xx_or_202_not_500(client, tokens, field, value, kind):
    good = coded("p-fz", "4996-5", NOT_DETECTED, "2026-11-30")
    other = quantity("p-fz", "718-7", 10, "g/dL", "2026-11-30")
    body = {"resourceType": "Bundle", "type": kind,
            "entry": [{"resource": _mutated(good, field, value)}, {"resource": other}]}
    response = client.post("/fhir", json=body, headers=tokens["lab"])
    assert response.status_code in (202, 400, 422), response.text[:300]
    if response.status_code != 202:
        assert response.json()["resourceType"] == "OperationOutcome"


segments = st.lists(st.sampled_from([
    "MSH|^~\\&|LAB|HOSP|MYOCIT|APHP|20261130101500||ORU^R01^ORU_R01|M1|P|2.5.1",
    "PID|1||p-h^^^HOSP^MR", "PID|", "OBR|1||F-1|4996-5^CMV^LN|||20261130",
    "OBX|1|NM|718-7^Hb^LN||9.1|g/dL|||||F|||20261130", "OBX|1|NM|718-7^Hb^LN||abc|g/dL|||||F",
    "OBX|1|CWE|4996-5^CMV^LN||260373001^Detected^SCT||||||Z", "OBX|", "ZZZ|1|2", "",
]), max_size=6)


@FUZZ
@given(parts=segments, noise=st.text(max_size=20))
def test_broken_hl7_messages_get_an_ack_not_a_500(client, tokens, parts, noise):
    message = "\r".join(parts) + noise
    response = client.post("/hl7v2", content=message.encode("utf-8"), headers=tokens["lab"])
    assert response.status_code in (202, 400), response.text[:300]
    assert "MSA|" in response.text
