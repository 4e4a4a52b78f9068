"""A signed confirmation overturned by data that arrives after it (contract §9): exactly one alert,
marked ``confirmed``, mailed through a real SMTP server and posted to a real webhook receiver, each
saying plainly that the signature no longer stands."""

from __future__ import annotations

from datetime import date

from delivery.messages import OVERTURNED
from tests.delivery.test_delivery import subscribe
from tests.fhir_samples import bundle, eligible_record, immunization
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)


def test_the_overturning_alert_is_mailed_and_posted_with_the_warning(client, tokens, rt, smtp, receiver):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    assert post_record(client, tokens, eligible_record("s-1", DAY)).status_code == 202
    run_pending(rt)
    reauth = tokens["investigator"]["Authorization"].split()[1]
    signed = client.post("/patients/s-1/confirmation", json={"as_of": "2026-12-01", "reauth": reauth},
                         headers=tokens["investigator"])
    assert signed.status_code == 201, signed.text
    assert client.post("/fhir", json=bundle([immunization("s-1", "03", "2026-11-20")]),
                       headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    alerts = client.get("/alerts", headers=tokens["coordinator"]).json()
    # The new candidate's alert first (§5), then the one that overturns the signature.
    assert [(a["to_status"], a["confirmed"]) for a in alerts] == [("eligible", False), ("waiting", True)]
    alerts = alerts[1:]
    assert len(smtp.mails) == 2
    assert "new candidate" in smtp.mails[0].subject and OVERTURNED not in smtp.mails[0].text
    mail = smtp.mails[1]
    assert " ".join(mail.subject.split()) == "SIGNED CONFIRMATION OVERTURNED: MYOCIT screening s-1: eligible → waiting"
    assert " ".join(mail.text.split()).startswith(OVERTURNED)
    assert "signed confirmation" in mail.text and "overturned" in mail.text
    assert len(receiver.accepted) == 2
    assert receiver.accepted[0]["new_candidate"] is True and "warning" not in receiver.accepted[0]
    body = receiver.accepted[1]
    assert (body["alert"], body["confirmed"], body["warning"]) == (alerts[0]["id"], True, OVERTURNED)
    assert [c["valid"] for c in client.get("/patients/s-1/confirmation", headers=tokens["coordinator"]).json()] \
        == [False]
