"""Reasons in the reader's language on the API, and a signature that verifies whatever language reads
it later (contract §18, §9)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from tests.api.conftest import run_pending
from tests.fhir_samples import DETECTED, coded, eligible_record
from tests.inprocess import post_record

DAY = date(2026, 12, 1)
KEYS = ("patient", "protocol", "protocol_version", "as_of", "status", "eligible_from", "eligible_until",
        "next_review_at", "criteria")


def _in(language: str, headers: dict) -> dict:
    return {**headers, "Accept-Language": language}


def _hash(result: dict) -> str:
    canonical = json.dumps({k: result[k] for k in KEYS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.fixture()
def eligible(client, tokens, rt):
    assert post_record(client, tokens, eligible_record("c-1", DAY)).status_code == 202
    run_pending(rt)
    return "c-1"


def test_reasons_follow_accept_language_and_every_other_field_stays(client, tokens, rt):
    record = eligible_record("c-2", DAY, with_cmv=False) + [coded("c-2", "4996-5", DETECTED, "2026-11-25")]
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    english = client.get("/patients/c-2/eligibility", headers=_in("en", tokens["coordinator"]))
    french = client.get("/patients/c-2/eligibility", headers=_in("fr-FR,fr;q=0.9", tokens["coordinator"]))
    assert english.headers["Content-Language"] == "en" and french.headers["Content-Language"] == "fr"
    en, fr = english.json(), french.json()
    cmv_en = next(c for c in en["criteria"] if c["id"] == "EXC-CMV-PCR")
    cmv_fr = next(c for c in fr["criteria"] if c["id"] == "EXC-CMV-PCR")
    assert cmv_en["reason"].startswith("Blood CMV PCR") and "2026-11-25" in cmv_en["reason"]
    assert cmv_fr["reason"].startswith("PCR CMV sanguine") and "25 novembre 2026" in cmv_fr["reason"]
    assert "ADN du CMV détecté" in cmv_fr["reason"]
    for one, other in zip(en["criteria"], fr["criteria"]):
        assert {k: v for k, v in one.items() if k != "reason"} == {k: v for k, v in other.items() if k != "reason"}
    assert {k: v for k, v in en.items() if k != "criteria"} == {k: v for k, v in fr.items() if k != "criteria"}
    unasked = client.get("/patients/c-2/eligibility", headers=tokens["coordinator"])
    assert unasked.headers["Content-Language"] == "en" and unasked.json() == en
    planned = client.get("/patients/c-2/eligibility?as_of=2026-12-20", headers=_in("fr", tokens["coordinator"]))
    assert planned.headers["Content-Language"] == "fr"
    assert "PCR CMV sanguine" in next(c for c in planned.json()["criteria"] if c["id"] == "EXC-CMV-PCR")["reason"]


@pytest.mark.parametrize("signed_in", ["fr", "en"])
def test_a_signature_verifies_in_the_language_it_was_signed_in_whoever_reads_it(client, tokens, eligible,
                                                                               signed_in):
    investigator = tokens["investigator"]
    body = {"as_of": "2026-12-01", "reauth": investigator["Authorization"].split()[1]}
    answer = client.post(f"/patients/{eligible}/confirmation", json=body, headers=_in(signed_in, investigator))
    assert answer.status_code == 201, answer.text
    signed = answer.json()
    assert signed["language"] == signed_in
    shown = {lang: client.get(f"/patients/{eligible}/eligibility", headers=_in(lang, tokens["coordinator"])).json()
             for lang in ("fr", "en")}
    assert signed["sha256"] == _hash(shown[signed_in])
    assert _hash(shown["fr"]) != _hash(shown["en"])
    for reader in ("fr", "en"):
        listed = client.get(f"/patients/{eligible}/confirmation", headers=_in(reader, tokens["coordinator"]))
        assert [c["valid"] for c in listed.json()] == [True]
