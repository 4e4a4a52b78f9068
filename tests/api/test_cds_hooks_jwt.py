"""The JWT rules of the CDS Hooks service (contract §15), one by one: each refusal is a 401 with no
card, audited; the accepted algorithms, the clock skew, key rotation, replays, and the sweep of the
replay store. The EHR is real: its keys are published over HTTP by testkit.ehr."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select

from service import schedule
from service.commands import AddEhr, RemoveEhr, SweepStalledWork
from service.ehrs import add_ehr, remove_ehr
from domain.criteria import CRITERIA
from store.models import AuditEntry, CdsJti, Patient, PatientIdentifier, ScreeningRow
from testkit.ehr import Ehr, SigningKey, patient_view
from tests.inprocess import copied_runtime, make_runtime

DAY = date(2026, 12, 1)
URL = "http://testserver/cds-services/myocit-eligibility"
PATH = "/cds-services/myocit-eligibility"
MRN = "urn:oid:1.2.250.1.71.4.2.7"
PATIENT = {"resourceType": "Patient", "id": "e-1", "identifier": [{"system": MRN, "value": "MRN-JWT-1"}]}


def register(rt, ehr: Ehr, sites=("site-a",)) -> int:
    return add_ehr(AddEhr(ehr.issuer, ehr.jwks_url, None, sites, "test"), rt.uow(), clock=rt.clock).pk


def screened_child(rt) -> None:
    """A child of site-a with a record number and a stored eligible screening, written directly: what is
    tested here is who may read its card."""
    with rt.uow() as uow:
        row = Patient(id="jwt-ok", registered=True, site="site-a", birth_date=DAY.replace(year=2016), sex="male",
                      pending_seq=1, evaluated_seq=1, status="eligible", as_of=DAY)
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(PatientIdentifier(patient_pk=row.pk, system=MRN, value="MRN-JWT-1"))
        result = {"patient": "jwt-ok", "protocol": "MYOCIT", "protocol_version": "2026-11", "as_of": DAY.isoformat(),
                  "status": "eligible", "eligible_from": None, "eligible_until": None, "next_review_at": None,
                  "criteria": [{"id": c.id, "kind": c.kind.value, "verdict": "pass", "reason": "ok", "evidence": []}
                               for c in CRITERIA]}
        uow.session.add(ScreeningRow(patient_pk=row.pk, created_at=rt.clock.now(), as_of=DAY, status="eligible",
                                     protocol_version="2026-11", result=result, fact_pks=[], trigger="data"))
        uow.commit()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    home = tmp_path_factory.mktemp("cds-jwt")
    runtime = make_runtime(home)
    screened_child(runtime)
    runtime.dispose()
    return home


@pytest.fixture()
def rt(tmp_path, template):
    runtime = copied_runtime(template, tmp_path)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def ehr(rt):
    running = Ehr()
    register(rt, running)
    yield running
    running.close()


def call(client, token: str | None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(PATH, json=body or patient_view("e-1", PATIENT), headers=headers)


def accepted(answer) -> None:
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["cards"]) == 1


def refused(answer) -> None:
    assert answer.status_code == 401, answer.text
    assert "cards" not in answer.json()


def test_a_well_signed_call_gets_its_card(client, ehr):
    accepted(call(client, ehr.token(URL)))


@pytest.mark.parametrize("alg", ["RS384", "ES256", "ES384"])
def test_each_allowed_algorithm_is_accepted(client, ehr, alg):
    key = ehr.rotate(alg)
    accepted(call(client, ehr.token(URL, key=key)))


def test_no_bearer_token(client, ehr):
    refused(call(client, None))
    refused(client.post(PATH, json=patient_view("e-1", PATIENT), headers={"Authorization": "Basic abc"}))


def test_not_a_jwt(client, ehr):
    refused(call(client, "not-a-jwt"))


def test_an_unregistered_issuer(client, ehr):
    stranger = Ehr()
    try:
        refused(call(client, stranger.token(URL)))
    finally:
        stranger.close()


def test_a_removed_ehr(client, ehr, rt):
    remove_ehr(RemoveEhr(1, "test"), rt.uow(), clock=rt.clock)
    refused(call(client, ehr.token(URL)))


def test_alg_none(client, ehr):
    body = {"iss": ehr.issuer, "aud": URL, "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": "n1"}
    refused(call(client, jwt.encode(body, None, algorithm="none", headers={"kid": ehr.keys[0].kid})))


def test_hmac(client, ehr):
    body = {"iss": ehr.issuer, "aud": URL, "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": "h1"}
    refused(call(client, jwt.encode(body, "a shared secret of thirty-two bytes!", algorithm="HS256",
                                    headers={"kid": ehr.keys[0].kid})))


@pytest.mark.parametrize("alg", ["RS512", "PS256"])
def test_an_rsa_algorithm_outside_the_allow_list(client, ehr, alg):
    key = ehr.keys[0]
    body = {"iss": ehr.issuer, "aud": URL, "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": alg}
    refused(call(client, jwt.encode(body, key.private, algorithm=alg, headers={"kid": key.kid})))


def test_a_signature_by_another_key_under_a_known_kid(client, ehr):
    forger = SigningKey("RS256", kid=ehr.keys[0].kid)
    refused(call(client, ehr.token(URL, key=forger)))


def test_an_unknown_kid_is_fetched_again_then_refused(client, ehr):
    accepted(call(client, ehr.token(URL)))
    fetched = ehr.jwks_fetches
    refused(call(client, ehr.token(URL, key=SigningKey("RS256"))))
    assert ehr.jwks_fetches == fetched + 1


def test_no_kid(client, ehr):
    body = {"iss": ehr.issuer, "aud": URL, "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": "k1"}
    refused(call(client, jwt.encode(body, ehr.keys[0].private, algorithm="RS256")))


def test_keys_rotated_at_the_ehr_are_fetched_again(client, ehr):
    accepted(call(client, ehr.token(URL)))
    fetched = ehr.jwks_fetches
    accepted(call(client, ehr.token(URL, key=ehr.rotate())))
    accepted(call(client, ehr.token(URL)))
    assert ehr.jwks_fetches == fetched + 1


@pytest.mark.parametrize("aud", ["http://testserver/cds-services/other", "https://evil.example/cds-services/"
                                 "myocit-eligibility", None])
def test_an_audience_other_than_the_url_called(client, ehr, aud):
    refused(call(client, ehr.token(URL, aud=aud)))


def test_the_url_under_the_base_url_is_an_audience_too(client, ehr):
    accepted(call(client, ehr.token("http://127.0.0.1:8000/cds-services/myocit-eligibility")))


def test_expiry_with_60_seconds_of_skew(client, ehr):
    now = time.time()
    refused(call(client, ehr.token(URL, exp=int(now) - 90, iat=int(now) - 300)))
    accepted(call(client, ehr.token(URL, exp=int(now) - 30, iat=int(now) - 300)))


def test_issued_in_the_future_with_60_seconds_of_skew(client, ehr):
    now = time.time()
    refused(call(client, ehr.token(URL, iat=int(now) + 120)))
    accepted(call(client, ehr.token(URL, iat=int(now) + 30)))


@pytest.mark.parametrize("claims", [{"exp": 10**20}, {"exp": float("nan")}, {"exp": "tomorrow"}, {"exp": True},
                                    {"iat": float("inf")}, {"jti": 42}, {"jti": ""}, {"aud": 5}])
def test_claims_that_are_not_what_they_should_be(client, ehr, claims):
    refused(call(client, ehr.token(URL, **claims)))


def test_a_token_living_longer_than_a_day(client, ehr):
    refused(call(client, ehr.token(URL, exp=int(time.time()) + 2 * 86_400)))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "iss"])
def test_a_required_claim_missing(client, ehr, claim):
    refused(call(client, ehr.token(URL, **{claim: None})))


def test_a_replayed_jti_is_refused_even_for_another_body(client, ehr, rt):
    token = ehr.token(URL)
    accepted(call(client, token))
    refused(call(client, token))
    refused(call(client, ehr.token(URL, jti=jwt.decode(token, options={"verify_signature": False})["jti"])))
    with rt.uow() as uow:
        actions = uow.session.scalars(select(AuditEntry.target).where(AuditEntry.action == "cds-patient-view-refused")
                                      ).all()
    assert actions == ["replayed-jti", "replayed-jti"]


def test_the_same_jti_from_another_issuer_is_not_a_replay(client, ehr, rt):
    other = Ehr()
    try:
        register(rt, other)
        accepted(call(client, ehr.token(URL, jti="shared-1")))
        accepted(call(client, other.token(URL, jti="shared-1")))
    finally:
        other.close()


def test_a_refused_call_is_audited_without_the_token(client, ehr, rt):
    token = ehr.token(URL, aud="http://elsewhere/")
    refused(call(client, token))
    with rt.uow() as uow:
        row = uow.session.execute(select(AuditEntry.actor, AuditEntry.target)
                                  .where(AuditEntry.action == "cds-patient-view-refused")).one()
    assert row == (f"ehr 1 ({ehr.issuer})", "aud")
    assert token not in repr(row)


def test_the_sweep_forgets_jtis_of_expired_tokens_only(client, ehr, rt):
    now = time.time()
    accepted(call(client, ehr.token(URL, exp=int(now) + 10)))
    accepted(call(client, ehr.token(URL, exp=int(now) + 3600)))
    later = datetime.now(UTC) + timedelta(seconds=600)

    class Later:
        def now(self):
            return later

    schedule.sweep(SweepStalledWork(later - timedelta(seconds=30)), rt.uow(), clock=Later(), dispatch=rt.dispatch)
    with rt.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CdsJti)) == 1


def test_an_ehr_of_the_other_site_sees_that_sites_children_only(client, ehr, rt):
    other = Ehr()
    try:
        register(rt, other, sites=("site-b",))
        assert call(client, other.token(URL)).json() == {"cards": []}
    finally:
        other.close()
