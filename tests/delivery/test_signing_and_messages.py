"""The webhook signature a receiver checks, and what a message may say."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from delivery.messages import WITHHELD, AlertContent, build, scrub
from delivery.webhook import sign, verify

SECRET, BODY, NOW = "whsec_abc", b'{"alert":1}', 1_800_000_000


@pytest.mark.parametrize(("header", "body", "now", "valid"), [
    (sign(SECRET, BODY, NOW), BODY, NOW, True),
    (sign(SECRET, BODY, NOW), BODY, NOW + 300, True),
    (sign(SECRET, BODY, NOW), BODY, NOW + 301, False),
    (sign(SECRET, BODY, NOW), BODY, NOW - 301, False),
    (sign(SECRET, BODY, NOW), b'{"alert":2}', NOW, False),
    (sign("whsec_other", BODY, NOW), BODY, NOW, False),
    (sign("whsec_old", BODY, NOW) + "," + sign(SECRET, BODY, NOW).split(",")[1], BODY, NOW, True),
    (f"t={NOW}", BODY, NOW, False),
    (sign(SECRET, BODY, NOW).split(",")[1], BODY, NOW, False),
    ("", BODY, NOW, False),
    ("t=soon,v1=00", BODY, NOW, False),
])
def test_verify_accepts_only_a_fresh_signature_of_this_body_with_this_secret(header, body, now, valid):
    assert verify(SECRET, header, body, now) is valid


def test_verify_takes_an_aware_datetime_as_now():
    at = datetime.fromtimestamp(NOW, timezone.utc)
    assert verify(SECRET, sign(SECRET, BODY, NOW), BODY, at)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


@pytest.mark.parametrize(("born", "reason", "said"), [
    (date(2024, 1, 15), "Aged 2: turns 3 on 2027-01-15", f"Aged 2: turns 3 on {WITHHELD}"),
    (date(2007, 6, 2), "Aged 19: 19 or older since 2026-06-02", f"Aged 19: 19 or older since {WITHHELD}"),
    (date(2012, 2, 29), "turns 18 on 2030-03-01", f"turns 18 on {WITHHELD}"),
    (date(2016, 1, 15), "CMV PCR not detected on 2026-11-30", "CMV PCR not detected on 2026-11-30"),
    (None, "turns 3 on 2027-01-15", "turns 3 on 2027-01-15"),
])
def test_dates_that_fall_on_the_birthday_are_withheld_from_reasons(born, reason, said):
    assert scrub(reason, born) == said


def test_a_message_names_the_screening_its_change_the_reasons_and_a_link():
    content = AlertContent(
        alert=7, screening_id="p-001", from_status="waiting", to_status="ineligible",
        changed=["INC-AGE"], created_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
        criteria=[{"id": "INC-AGE", "verdict": "fail", "reason": "Aged 19: 19 or older since 2026-06-02"},
                  {"id": "EXC-CMV-PCR", "verdict": "pass", "reason": "not detected"}],
        birth_date=date(2007, 6, 2),
    )
    message = build(content, "https://myocit.example.org/")
    assert message.subject == "MYOCIT screening p-001: waiting → ineligible"
    assert message.data.pop("text") == message.text
    assert message.data == {
        "type": "alert.created", "alert": 7, "screening_id": "p-001", "from_status": "waiting",
        "to_status": "ineligible", "created_at": "2026-12-01T08:30:00+00:00",
        "changed": [{"id": "INC-AGE", "verdict": "fail", "reason": f"Aged 19: 19 or older since {WITHHELD}"}],
        "link": "https://myocit.example.org/ui/patients/p-001",
    }
    assert "2007" not in message.text and "06-02" not in message.text
    assert "https://myocit.example.org/ui/patients/p-001" in message.text


def test_criteria_that_changed_are_named_in_the_email_and_the_webhook_when_the_names_are_known():
    content = AlertContent(
        alert=8, screening_id="p-002", from_status="incomplete", to_status="eligible",
        changed=["EXC-ORAL", "EXC-HB"], created_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
        criteria=[{"id": "EXC-ORAL", "verdict": "pass", "reason": "does not apply"},
                  {"id": "EXC-HB", "verdict": "pass", "reason": "12 g/dL"}],
        names={"EXC-ORAL": "Cannot take oral treatment"},
    )
    message = build(content, "https://myocit.example.org/")
    assert "- Cannot take oral treatment (EXC-ORAL): pass (does not apply)" in message.text
    assert "- EXC-HB: pass (12 g/dL)" in message.text  # a name not known: the id alone
    assert message.data["changed"][0] == {"id": "EXC-ORAL", "name": "Cannot take oral treatment",
                                          "verdict": "pass", "reason": "does not apply"}
    assert "name" not in message.data["changed"][1]


def test_a_new_candidate_says_so_and_shows_when_its_window_closes():
    content = AlertContent(
        alert=8, screening_id="p-002", from_status=None, to_status="eligible", changed=[],
        created_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
        criteria=[{"id": "INC-AGE", "verdict": "pass", "reason": "Aged 10, within 3-18 years",
                   "passes_until": "2035-01-14"},
                  {"id": "EXC-PRIOR-CS", "verdict": "pass", "passes_until": "2026-12-16",
                   "reason": "Systemic corticosteroid first started 2026-11-15; "
                             "the exception lasts until 2026-12-16"}],
        birth_date=date(2016, 1, 15), eligible_until="2026-12-16",
    )
    message = build(content, "https://myocit.example.org")
    assert message.subject == "MYOCIT screening p-002: new candidate: eligible"
    assert message.data["from_status"] is None and message.data["new_candidate"] is True
    assert message.data["eligible_until"] == "2026-12-16"
    assert message.data["window"]["closed_by"] == "EXC-PRIOR-CS"
    assert "new candidate" in message.text
    assert "Eligible until: 2026-12-16 (EXC-PRIOR-CS: Systemic corticosteroid first started" in message.text


def test_a_window_closed_by_the_age_limit_keeps_the_birthday_out():
    content = AlertContent(
        alert=9, screening_id="p-003", from_status="incomplete", to_status="eligible", changed=["EXC-ANC"],
        created_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
        criteria=[{"id": "INC-AGE", "verdict": "pass", "reason": "Aged 18, within 3-18 years",
                   "passes_until": "2027-06-01"},
                  {"id": "EXC-ANC", "verdict": "pass", "reason": "Neutrophils 2.1"}],
        birth_date=date(2008, 6, 2), eligible_until="2027-06-01",
    )
    message = build(content, "https://myocit.example.org")
    assert message.data["eligible_until"] == WITHHELD and message.data["window"]["closed_by"] == "INC-AGE"
    assert "06-01" not in message.text and "06-02" not in message.text and "new_candidate" not in message.data


def test_an_alert_is_written_in_its_subscriptions_language_with_birthdays_still_withheld():
    from domain.wording import said_as, to_json

    reason = said_as("Aged {age}: turns {minimum_years} on {first_day}", age=2, minimum_years=3,
                     first_day=date(2027, 1, 15))
    cmv = said_as("{shown}: CMV DNA detected", shown=said_as("Blood CMV PCR {described} on {on}",
                                                             described="positive", on=date(2026, 11, 25)))
    content = AlertContent(
        alert=8, screening_id="p-002", from_status="eligible", to_status="ineligible",
        changed=["INC-AGE", "EXC-CMV-PCR"], created_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
        criteria=[{"id": "INC-AGE", "verdict": "fail", "reason": str(reason)},
                  {"id": "EXC-CMV-PCR", "verdict": "fail", "reason": str(cmv)}],
        reasons=[to_json(reason), to_json(cmv)], birth_date=date(2024, 1, 15), language="fr",
        names={"INC-AGE": "Âge de 3 à 18 ans", "EXC-CMV-PCR": "PCR CMV sanguine positive"})
    french = build(content, "https://myocit.example.org/")
    assert french.subject == "Présélection MYOCIT p-002 : éligible → non éligible"
    assert "La présélection MYOCIT p-002 a changé : éligible → non éligible." in french.text
    assert "Âge 2 ans : aura 3 ans le [date masquée]" in french.text
    assert "PCR CMV sanguine : positive le 25 novembre 2026 : ADN du CMV détecté" in french.text
    assert "janvier" not in french.text and "2027" not in french.text
    assert french.data["text"] == french.text and french.data["language"] == "fr"
    assert french.data["to_status"] == "ineligible" and french.data["changed"][0]["verdict"] == "fail"
    for english_word in ("changed", "Screening id", "What changed", "Open the screening", "withheld"):
        assert english_word not in french.text
    english = build(replace(content, language="en", names={}), "https://myocit.example.org/")
    assert english.subject == "MYOCIT screening p-002: eligible → ineligible"
    assert f"Aged 2: turns 3 on {WITHHELD}" in english.text
