"""No input of any kind answers 500 (contract §13), and nothing refused is half-stored.

The app has a catch-all that turns an unexpected error into a 500 OperationOutcome; it is a safety
net, and these tests prove no input reaches it: first every 500 found so far, then hypothesis over
FHIR resources and HL7 messages with random dates, depths, ids, delimiters and sizes.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from store.models import Fact, Message, Patient
from tests.fhir_samples import bundle, patient, quantity
from tests.inprocess import run_pending

DAY = date(2026, 12, 1)
HL7 = {"Content-Type": "x-application/hl7-v2+er7"}


def counts(rt) -> tuple[int, int, int]:
    with rt.uow() as uow:
        s = uow.session
        return (s.scalar(select(func.count()).select_from(Message)), s.scalar(select(func.count()).select_from(Fact)),
                s.scalar(select(func.count()).select_from(Patient)))


def nested(depth: int) -> dict:
    value: dict = {"x": 1}
    for _ in range(depth):
        value = {"extension": [value]}
    return value


# --- every 500 found so far, each a regression test ---------------------------------------------------


def test_a_birth_date_in_9999_is_refused_and_nothing_is_stored(client, tokens, rt):
    before = counts(rt)
    response = client.post("/fhir/Patient", json=patient("p-future", birth="9999-12-31"), headers=tokens["lab"])
    assert response.status_code == 400
    assert "9999" not in response.text and "birthDate" in response.text
    assert counts(rt) == before


@pytest.mark.parametrize("birth,expected", [("1899-12-31", 400), ("1900-01-01", 202), ("2026-12-01", 202),
                                            ("2026-12-02", 400)])
def test_birth_dates_are_bounded_by_1900_and_the_day_of_receipt(client, tokens, rt, birth, expected):
    assert client.post("/fhir/Patient", json=patient("p-b", birth=birth), headers=tokens["lab"]).status_code == expected


@pytest.mark.parametrize("day,expected", [("1899-12-31", 400), ("1900-01-01", 202), ("2200-12-31", 202),
                                          ("2201-01-01", 400), ("0001-01-01", 400)])
def test_result_dates_are_bounded_by_1900_and_2200(client, tokens, rt, day, expected):
    obs = quantity("p-1", "26499-4", 2.0, "10*9/L", day)
    assert client.post("/fhir/Observation", json=obs, headers=tokens["lab"]).status_code == expected


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_moment_with_no_utc_time_at_the_calendars_edge_is_refused_with_400(client, tokens, rt, moment):
    obs = quantity("p-1", "26499-4", 2.0, "10*9/L", "2026-11-28")
    obs["effectiveDateTime"] = moment
    before = counts(rt)
    assert client.post("/fhir/Observation", json=obs, headers=tokens["lab"]).status_code == 400
    assert counts(rt) == before


def test_json_nested_200_deep_is_refused_with_400(client, tokens, rt):
    body = {**patient("p-deep"), **nested(200)}
    response = client.post("/fhir/Patient", json=body, headers=tokens["lab"])
    assert response.status_code == 400 and "nested deeper than 64" in response.text
    response = client.post("/fhir", json=bundle([body], "batch"), headers=tokens["lab"])
    assert response.status_code == 400


def test_json_nested_just_within_the_limit_is_read(client, tokens, rt):
    response = client.post("/fhir", content=json.dumps({"resourceType": "Bundle", **nested(30)}),
                           headers=tokens["lab"])
    assert response.status_code == 400 and "nested" not in response.text


def oru(msh: str) -> str:
    return msh + "\rPID|||kid\rOBR|1||o1||||20261130\rOBX|1|NM|26499-4^N^LN||2|10*9/L|||||F\r"


@pytest.mark.parametrize("message,code", [
    ("MSH#$%*@#LIS#LAB#MY#X#20261201##ORU$R01#1#P#2.5.1\rPID###kid\rOBR#1##o1####20261130\r"
     "OBX#1#NM#26499-4$N$LN##2#10*9/L#####F\r", "AA"),
    (oru("MSHXYZ|abc"), "AR"),
    (oru("MSH|^^^^|LIS|LAB"), "AR"),
    (oru("MSH|^~\\"), "AR"),
    (oru("MSH| ~\\&|LIS"), "AR"),
    (oru("MSH|^~\\&#|LIS|LAB|MY|X|20261201||ORU^R01|1|P|2.7"), "AA"),
])
def test_hl7_messages_with_other_delimiters_are_read_or_refused(client, tokens, rt, message, code):
    response = client.post("/hl7v2", content=message, headers={**tokens["lab"], **HL7})
    assert response.status_code != 500
    msa = next(line for line in response.text.split("\r") if line.startswith("MSA"))
    assert msa.split("|")[1] == code, response.text


def test_a_nul_character_is_refused_and_nothing_is_stored(client, tokens, rt):
    """Found by the hypothesis test on PostgreSQL, which stores no NUL in text (it answered 503)."""
    before = counts(rt)
    resource = {**patient("p-nul"), "identifier": [{"system": "urn:mrn", "value": "M\u0000-1"}]}
    # json.dumps escapes the NUL as \u0000, the only way JSON can carry one.
    response = client.post("/fhir/Patient", content=json.dumps(resource),
                           headers={**tokens["lab"], "Content-Type": "application/fhir+json"})
    assert response.status_code == 400 and "NUL" in response.text
    message = oru("MSH|^~\\&|LIS|LAB|MY|X|20261201||ORU^R01|1|P|2.5.1").replace("PID|||kid", "PID|||k\x00id")
    answer = client.post("/hl7v2", content=message.encode(), headers={**tokens["lab"], **HL7})
    assert "MSA|AR|" in answer.text and answer.status_code == 400
    assert counts(rt) == before


@pytest.mark.parametrize(
    ("who", "path"),
    [("coordinator", "/patients/p%00x/eligibility"), ("coordinator", "/patients/p-1/eligibility?as_of=2026-12-01%00"),
     ("admin", "/screening-log?site=site-a%00"), ("admin", "/funnel?site=%00"), ("coordinator", "/alerts?after=%00")],
)
def test_a_nul_in_a_path_or_a_query_is_a_bad_request(client, tokens, who, path):
    """PostgreSQL compares no NUL in text: it once answered 503, as if the database were down."""
    response = client.get(path, headers=tokens[who])
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome" and "NUL" in response.text


def test_a_nul_in_a_json_field_of_a_record_is_never_a_server_error(client, tokens, rt):
    assert client.post("/fhir", json=bundle([patient("p-nul-2")]), headers=tokens["lab"]).status_code == 202
    answer = client.post("/patients/p-nul-2/outcome", json={"outcome": "declined", "reason": "refus\u0000 x"},
                         headers=tokens["coordinator"])
    assert answer.status_code < 500, answer.text


def test_an_hl7_message_with_too_many_results_gets_ar(client, tokens, rt):
    obx = "".join(f"OBX|{i}|NM|26499-4^N^LN|{i}|2|10*9/L|||||F\r" for i in range(1001))
    message = "MSH|^~\\&|LIS|LAB|MY|X|20261201||ORU^R01|1|P|2.5.1\rPID|||kid\rOBR|1||o1||||20261130\r" + obx
    before = counts(rt)
    response = client.post("/hl7v2", content=message, headers={**tokens["lab"], **HL7})
    assert "MSA|AR|" in response.text and counts(rt) == before


@pytest.mark.parametrize("as_of", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_as_of_outside_1900_2200_gets_400(client, tokens, rt, as_of):
    client.post("/fhir/Patient", json=patient("p-1"), headers=tokens["lab"])
    run_pending(rt)
    response = client.get(f"/patients/p-1/eligibility?as_of={as_of}", headers=tokens["coordinator"])
    assert response.status_code == 400


@pytest.mark.parametrize("method,path,role", [
    ("post", "/alerts/{n}/ack", "coordinator"),
    ("post", "/deliveries/{n}/retry", "coordinator"),
    ("post", "/subscriptions/{n}/deactivate", "admin"),
])
@pytest.mark.parametrize("number", [2**63, 10**30, 0, -1])
def test_numeric_ids_out_of_range_get_404(client, tokens, method, path, role, number):
    response = getattr(client, method)(path.format(n=number), headers=tokens[role])
    assert response.status_code == 404


def test_alerts_after_an_id_beyond_64_bits_is_an_empty_list(client, tokens):
    response = client.get(f"/alerts?after={10**30}", headers=tokens["coordinator"])
    assert response.status_code == 200 and response.json() == []


def test_a_version_id_of_10_to_the_30_is_accepted(client, tokens, rt):
    obs = {**quantity("p-1", "26499-4", 2.0, "10*9/L", "2026-11-30"), "meta": {"versionId": "1" + "0" * 30}}
    assert client.post("/fhir/Observation", json=obs, headers=tokens["lab"]).status_code == 202


def test_overlong_ids_and_identifiers_are_refused_not_sent_to_the_database(client, tokens, rt):
    long_subject = quantity("p", "26499-4", 2.0, "10*9/L", "2026-11-30")
    long_subject["subject"] = {"identifier": {"system": "urn:x", "value": "v" * 400}}
    assert client.post("/fhir/Observation", json=long_subject, headers=tokens["lab"]).status_code == 400
    long_reference = {**long_subject, "subject": {"reference": "Patient/" + "p" * 400}}
    assert client.post("/fhir/Observation", json=long_reference, headers=tokens["lab"]).status_code == 400
    site = {**patient("p-s"), "managingOrganization": {"reference": "Organization/" + "s" * 100}}
    assert client.post("/fhir/Patient", json=site, headers=tokens["admin"]).status_code == 400


# --- error bodies never echo what may identify a child ---------------------------------------------------

SECRETS = ("Zoé Secretname", "SECRET-MRN-4711", "2016-13-45")


@pytest.mark.parametrize("mutation", [
    {"birthDate": "2016-13-45"},
    {"gender": "Zoé Secretname"},
    {"identifier": [{"system": "urn:mrn", "value": "SECRET-MRN-4711", "period": {"start": "Zoé Secretname"}}]},
    {"name": [{"family": "Zoé Secretname", "given": "SECRET-MRN-4711"}]},
    {"name": [{"family": "Zoé Secretname"}], "birthDate": "9999-01-01"},
    {"resourceType": "Zoé Secretname"},
    {"name": "Zoé Secretname"},
    {"telecom": [{"system": "SECRET-MRN-4711"}]},
])
def test_error_bodies_name_the_field_but_never_the_value(client, tokens, rt, mutation):
    body = {**patient("p-1"), **mutation}
    for path, sent in (("/fhir/Patient", body), ("/fhir", bundle([body], "transaction")),
                       ("/fhir", bundle([body], "batch"))):
        response = client.post(path, json=sent, headers=tokens["lab"])
        assert response.status_code != 500
        for secret in SECRETS:
            assert secret not in response.text, (path, response.text)


def test_hl7_error_acks_never_echo_the_patients_identifier(client, tokens, rt):
    message = ("MSH|^~\\&|LIS|LAB|MY|X|20261201||ORU^R01|1|P|2.5.1\rPID|||SECRET-MRN-4711||Secretname^Zoé\r"
               "OBR|1||o1|||99999999\rOBX|1|NM|26499-4^N^LN||2|10*9/L|||||F\r")
    response = client.post("/hl7v2", content=message, headers={**tokens["lab"], **HL7})
    assert "MSA|AE|" in response.text
    assert "SECRET-MRN-4711" not in response.text.split("MSA", 1)[1] and "Secretname" not in response.text


# --- hypothesis: random resources and messages -------------------------------------------------------------

dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.text(alphabet="0123456789-T:+Z.", max_size=30),
    st.sampled_from(["2026-02-30", "2026-12-01T10:00:00", "2026-12-01T10:00:00+01:00", "2026", "2026-13"]),
)
ids = st.one_of(st.from_regex(r"[A-Za-z0-9\-.]{1,80}", fullmatch=True), st.text(max_size=100),
                st.integers(min_value=-(10**40), max_value=10**40).map(str))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=20,
)


@st.composite
def resources(draw) -> dict:
    pid = draw(ids)
    kind = draw(st.sampled_from(["Patient", "Observation", "Condition", "Immunization", "Consent"]))
    if kind == "Patient":
        resource = {**patient(pid, birth=draw(dates)), "gender": draw(st.sampled_from(["male", "female", "x"]))}
        if draw(st.booleans()):
            resource["identifier"] = [{"system": draw(st.sampled_from(["urn:a", "urn:b", None])), "value": draw(ids)}]
        if draw(st.booleans()):
            resource["managingOrganization"] = {"reference": f"Organization/{draw(ids)}"}
    else:
        resource = quantity(pid, draw(st.sampled_from(["26499-4", "718-7", "8302-2"])),
                            draw(st.floats(allow_nan=False, allow_infinity=False)), "10*9/L", draw(dates))
        resource["resourceType"] = kind if kind == "Observation" else "Observation"
        resource["id"] = draw(ids)
        if draw(st.booleans()):
            resource["meta"] = {"versionId": draw(ids)}
        if draw(st.booleans()):
            resource["subject"] = draw(st.sampled_from([
                {"identifier": {"value": draw(ids)}}, {"identifier": {"system": draw(ids), "value": draw(ids)}},
                {"reference": draw(ids)}]))
    if draw(st.booleans()):
        resource[draw(st.sampled_from(["extension", "note", "extra", "code"]))] = draw(json_values)
    if draw(st.integers(0, 4)) == 0:
        resource = {**resource, **nested(draw(st.integers(50, 120)))}
    return resource


no_deadline = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                              HealthCheck.too_slow])


@no_deadline
@given(resource=resources(), how=st.sampled_from(["resource", "transaction", "batch"]))
def test_no_fhir_input_answers_500_or_is_half_stored(client, tokens, rt, resource, how):
    before = counts(rt)
    if how == "resource":
        response = client.post(f"/fhir/{resource['resourceType']}", json=resource, headers=tokens["lab"])
    else:
        response = client.post("/fhir", json=bundle([resource], how), headers=tokens["lab"])
    assert response.status_code < 500, response.text
    after = counts(rt)
    if response.status_code >= 400:
        assert after == before
    else:
        assert after[0] >= before[0]


segment_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)


@st.composite
def hl7_messages(draw) -> str:
    field, comp, rep, esc, sub = draw(st.sampled_from(["|^~\\&", "#$%*@", "|^~\\&", "!\"§$%", "|||||", "|^~^&", "a^~\\&"]))
    when = draw(st.one_of(st.from_regex(r"[0-9]{4,14}", fullmatch=True), segment_text))
    pid3 = draw(st.one_of(ids, st.just(f"A-222{comp}{comp}{comp}NECKER"), segment_text))
    obx = draw(st.integers(0, 5))
    f = field
    lines = [f"MSH{f}{comp}{rep}{esc}{sub}{f}LIS{f}LAB{f}MY{f}X{f}{when}{f}{f}ORU{comp}R01{f}{draw(ids)}{f}P{f}2.5.1",
             f"PID{f}{f}{f}{pid3}", f"OBR{f}1{f}{f}{draw(ids)}{f}{f}{f}{f}{when}"]
    for i in range(obx):
        value = draw(st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(str), segment_text))
        lines.append(f"OBX{f}{i}{f}{draw(st.sampled_from(['NM', 'SN', 'ST', 'CWE', 'XX']))}{f}26499-4{comp}N{comp}LN"
                     f"{f}{f}{value}{f}10*9/L{f}{f}{f}{f}{f}{draw(st.sampled_from(['F', 'C', 'D', 'P', 'Z', '']))}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(segment_text))
    return "\r".join(lines) + "\r"


@no_deadline
@given(message=hl7_messages())
def test_no_hl7_message_answers_500_or_is_half_stored(client, tokens, rt, message):
    before = counts(rt)
    response = client.post("/hl7v2", content=message.encode("utf-8"), headers={**tokens["lab"], **HL7})
    assert response.status_code < 500, response.text
    assert "MSA|" in response.text
    if "MSA|AA|" not in response.text:
        assert counts(rt) == before
