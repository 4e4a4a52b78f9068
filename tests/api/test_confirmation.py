"""The investigator's signed confirmation (contract §9): refused unless the latest stored screening is
eligible, not pending and for the date signed, and unless the token re-entered is the signer's own;
bound by a hash recomputed here from the stored screening; never changed or deleted; ``valid`` until a
later screening is not eligible, and then the one alert says the confirmation was overturned."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from store.models import Alert, AuditEntry, Confirmation, Patient, ScreeningRow
from tests.api.conftest import run_pending
from tests.fhir_samples import bundle, eligible_record, immunization
from tests.inprocess import post_record

DAY = date(2026, 12, 1)
KEYS = ("patient", "protocol", "protocol_version", "as_of", "status", "eligible_from", "eligible_until",
        "next_review_at", "criteria")  # §9, with eligible_until since §1.2


def _token(tokens, who):
    return tokens[who]["Authorization"].split()[1]


def _sign(client, tokens, pid, who="investigator", *, as_of="2026-12-01", reauth=None, **more):
    body = {"as_of": as_of, "reauth": _token(tokens, who) if reauth is None else reauth, **more}
    return client.post(f"/patients/{pid}/confirmation", json=body, headers=tokens[who])


@pytest.fixture()
def eligible(client, tokens, rt):
    assert post_record(client, tokens, eligible_record("c-1", DAY)).status_code == 202
    run_pending(rt)
    return "c-1"


def test_a_signature_binds_the_signer_the_meaning_and_the_hash_of_the_stored_screening(client, tokens, rt, eligible):
    answer = _sign(client, tokens, eligible)
    assert answer.status_code == 201, answer.text
    signed = answer.json()
    with rt.uow() as uow:
        stored = uow.session.get(ScreeningRow, signed["screening"])
        result, token_pk = stored.result, uow.session.scalar(text("SELECT pk FROM api_tokens WHERE name = 'investigator'"))
    canonical = json.dumps({k: result[k] for k in KEYS}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode("utf-8")
    assert signed["sha256"] == hashlib.sha256(canonical).hexdigest()
    latest = client.get(f"/patients/{eligible}/eligibility", headers=tokens["coordinator"]).json()
    shown = {k: latest[k] for k in KEYS}
    assert hashlib.sha256(json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest() == signed["sha256"]
    assert signed["signer"] == {"token": token_pk, "name": "investigator"}
    assert (signed["role"], signed["site"], signed["as_of"], signed["protocol_version"]) == (
        "investigator", "site-a", "2026-12-01", result["protocol_version"])
    assert signed["meaning"] == ("I confirm that this child meets every eligibility criterion of the MYOCIT "
                                 f"protocol {result['protocol_version']} as of 2026-12-01.")
    assert signed["signed_at"].endswith("+00:00") and signed["valid"] is True
    listed = client.get(f"/patients/{eligible}/confirmation", headers=tokens["coordinator"]).json()
    assert listed == [signed]
    with rt.uow() as uow:
        # The audit names the child by its screening id, never by the EHR's id (contract §17).
        sid = uow.session.scalar(select(Patient.screening_id).where(Patient.id == "c-1"))
        assert ("investigator", "confirm-eligibility", sid) in [
            (a.actor, a.action, a.screening_id) for a in uow.session.scalars(select(AuditEntry))]


def test_a_stated_meaning_is_kept_and_confirmations_are_listed_newest_first(client, tokens, eligible):
    first = _sign(client, tokens, eligible).json()
    second = _sign(client, tokens, eligible, meaning="Eligible; checked with the parents.").json()
    assert second["meaning"] == "Eligible; checked with the parents."
    listed = client.get(f"/patients/{eligible}/confirmation", headers=tokens["investigator"]).json()
    assert [c["id"] for c in listed] == [second["id"], first["id"]]


def test_a_wrong_re_entered_token_is_refused_with_401(client, tokens, eligible):
    for reauth in ("", "myo_not-a-token", _token(tokens, "coordinator"), _token(tokens, "investigator-site-b")):
        answer = _sign(client, tokens, eligible, reauth=reauth)
        assert answer.status_code == 401, reauth
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/patients/{eligible}/confirmation", headers=tokens["investigator"]).json() == []


def test_a_wrong_date_a_pending_or_a_not_eligible_screening_is_refused_with_409(client, tokens, rt, eligible):
    wrong_day = _sign(client, tokens, eligible, as_of="2026-12-02")
    assert wrong_day.status_code == 409 and wrong_day.json()["resourceType"] == "OperationOutcome"
    assert "2026-12-01" in wrong_day.json()["issue"][0]["diagnostics"]
    assert client.post("/fhir", json=bundle([immunization(eligible, "03", "2026-11-20")]),
                       headers=tokens["lab"]).status_code == 202
    pending = _sign(client, tokens, eligible)
    assert pending.status_code == 409 and "re-screened" in pending.json()["issue"][0]["diagnostics"]
    run_pending(rt)
    ineligible = _sign(client, tokens, eligible)
    assert ineligible.status_code == 409 and "waiting" in ineligible.json()["issue"][0]["diagnostics"]
    assert client.get(f"/patients/{eligible}/confirmation", headers=tokens["investigator"]).json() == []


def test_only_an_investigator_of_the_childs_site_signs(client, tokens, eligible):
    assert _sign(client, tokens, eligible, "coordinator").status_code == 403
    assert _sign(client, tokens, eligible, "admin").status_code == 403
    assert _sign(client, tokens, eligible, "investigator-site-b").status_code == 404
    assert _sign(client, tokens, "nobody").status_code == 404
    assert _sign(client, tokens, eligible, as_of="soon").status_code == 400
    assert client.get(f"/patients/{eligible}/confirmation", headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.get(f"/patients/{eligible}/confirmation", headers=tokens["lab"]).status_code == 403


def test_a_confirmation_is_never_changed_or_deleted(client, tokens, rt, eligible):
    signed = _sign(client, tokens, eligible).json()
    for statement in (update(Confirmation).where(Confirmation.pk == signed["id"]).values(meaning="changed"),
                      delete(Confirmation).where(Confirmation.pk == signed["id"])):
        with rt.uow() as uow, pytest.raises(DatabaseError, match="never changed or deleted"):
            uow.session.execute(statement)
    assert client.get(f"/patients/{eligible}/confirmation", headers=tokens["investigator"]).json()[0]["meaning"] \
        == signed["meaning"]


def test_an_overturning_result_flips_valid_and_raises_one_alert_marked_confirmed(client, tokens, rt, eligible):
    _sign(client, tokens, eligible)
    assert client.post("/fhir", json=bundle([immunization(eligible, "03", "2026-11-20")]),
                       headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    assert [c["valid"] for c in client.get(f"/patients/{eligible}/confirmation",
                                           headers=tokens["coordinator"]).json()] == [False]
    alerts = client.get("/alerts", headers=tokens["coordinator"]).json()
    # The first screening raised the new candidate's alert (§5); the overturning change says so (§9).
    assert [(a["patient"], a["from_status"], a["to_status"], a["confirmed"]) for a in alerts] == [
        (eligible, None, "eligible", False), (eligible, "eligible", "waiting", True)]
    funnel = client.get("/funnel", headers=tokens["coordinator"]).json()
    assert (funnel["waiting"], funnel["confirmed"]) == (1, 0)


def test_an_alert_of_a_child_never_confirmed_is_not_marked(client, tokens, rt, eligible):
    assert client.post("/fhir", json=bundle([immunization(eligible, "03", "2026-11-20")]),
                       headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    with rt.uow() as uow:
        # The new candidate's alert (§5), then the change.
        assert [a.confirmed for a in uow.session.scalars(select(Alert))] == [False, False]


def _stored_before_the_window(result: dict) -> dict:
    """A screening result as stored before §1.2: no eligible_until, no passes_until."""
    old = {k: v for k, v in result.items() if k != "eligible_until"}
    old["criteria"] = [{k: v for k, v in c.items() if k != "passes_until"} for c in result["criteria"]]
    return old


def test_a_confirmation_signed_before_the_window_still_verifies_against_the_keys_it_covered(
        client, tokens, rt, eligible):
    """§1.2: a confirmation signed before this release keeps its hash, checked against its own keys."""
    with rt.uow() as uow:
        latest = uow.session.scalars(select(ScreeningRow).order_by(ScreeningRow.pk.desc())).first()
        old = _stored_before_the_window(latest.result)
        old_keys = ("patient", "protocol", "protocol_version", "as_of", "status", "eligible_from",
                    "next_review_at", "criteria")
        covered = json.dumps({k: old[k] for k in old_keys}, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False)
        digest = hashlib.sha256(covered.encode("utf-8")).hexdigest()
        uow.session.execute(update(ScreeningRow).where(ScreeningRow.pk == latest.pk).values(result=old))
        token_pk = uow.session.scalar(text("SELECT pk FROM api_tokens WHERE name = 'investigator'"))
        signed = dict(patient_pk=latest.patient_pk, screening_pk=latest.pk, token_pk=token_pk,
                      signer_name="investigator", role="investigator", site="site-a",
                      signed_at=latest.created_at, meaning="m", as_of=latest.as_of,
                      protocol_version=latest.protocol_version)
        uow.session.add(Confirmation(**signed, sha256=digest, signed_keys=None))
        uow.session.add(Confirmation(**signed, sha256="0" * 64, signed_keys=None))
        uow.session.commit()
    listed = client.get(f"/patients/{eligible}/confirmation", headers=tokens["coordinator"]).json()
    assert [(c["sha256"], c["valid"]) for c in listed] == [("0" * 64, False), (digest, True)]
