"""Alert delivery end to end, in process: the API raises an alert, the delivery task sends it to a real
SMTP server and a real webhook receiver, failures are retried, then shown and retryable."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timezone

import httpx
from sqlalchemy import select, update

from delivery.webhook import HEADER, sign
from store.models import Delivery, Patient
from tests.delivery.conftest import BASE_URL
from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record, patient
from tests.inprocess import post_record, run_pending
from tests.processes import free_port
from workers import tasks

DAY = date(2026, 12, 1)
BIRTH, NAME, MRN = "2016-01-15", "Durand-Lefebvre", "MRN-7788991"


def subscribe(client, tokens, site, channel, target):
    answer = client.post("/subscriptions", json={"site": site, "channel": channel, "target": target},
                         headers=tokens["admin"])
    assert answer.status_code == 201, answer.text
    return answer.json()


def raise_alert(client, tokens, rt, pid="p-1", *, deliver=True) -> int:
    """A CMV PCR positive, then negative: one alert, from ineligible to eligible."""
    record = eligible_record(pid, DAY, with_cmv=False)
    mrn = MRN if pid == "p-1" else f"{MRN}-{pid}"  # a record number identifies one child (contract §13)
    record[0] = patient(pid, birth=BIRTH, mrn=mrn) | {"name": [{"family": NAME, "given": ["Léa"]}]}
    record.append(coded(pid, "4996-5", DETECTED, "2026-11-25"))
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    negative = [coded(pid, "4996-5", NOT_DETECTED, "2026-11-30")]
    assert client.post("/fhir", json=bundle(negative), headers=tokens["lab"]).status_code == 202
    if deliver:
        run_pending(rt)
    else:
        while rt.celery.sent and rt.celery.sent[0][0] != "myocit.deliver_alert":
            name, args, kwargs = rt.celery.sent.pop(0)
            task = tasks.evaluate_patients if name == "myocit.evaluate_patients" else tasks.evaluate_patient
            task.run(*args, **kwargs)
    return client.get("/alerts", headers=tokens["coordinator"]).json()[-1]["id"]


def stop_alerts(session, pid, now):
    """What recording a consent refusal does to the patient row."""
    session.execute(update(Patient).where(Patient.id == pid).values(alerts_stopped_at=now))


def deliveries_of(client, tokens, status=None, who="admin"):
    query = f"?status={status}" if status else ""
    answer = client.get(f"/deliveries{query}", headers=tokens[who])
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_alert_is_mailed_once_to_its_sites_subscribers_and_to_no_other_site(client, tokens, rt, smtp):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    subscribe(client, tokens, "site-b", "email", "coordinators@site-b.example.org")
    raise_alert(client, tokens, rt)
    assert [(m.sender, m.to) for m in smtp.mails] == [
        ("myocit@screening.example.org", ["coordinators@site-a.example.org"])]
    mail = smtp.mails[0]
    assert mail.subject == "MYOCIT screening p-1: ineligible → eligible"
    assert "Screening id: p-1" in mail.text
    assert "- Positive blood CMV PCR (EXC-CMV-PCR): pass (" in mail.text  # criteria by name, id beside
    assert f"{BASE_URL}/ui/patients/p-1" in mail.text
    assert [(d["channel"], d["status"], d["attempts"]) for d in deliveries_of(client, tokens)] == [
        ("email", "sent", 1)]


def test_webhook_bodies_are_signed_and_verified_by_the_receiver(client, tokens, rt, receiver):
    created = subscribe(client, tokens, "site-a", "webhook", receiver.url)
    receiver.secret = created["secret"]
    alert_id = raise_alert(client, tokens, rt)
    assert receiver.refused == 0
    assert len(receiver.accepted) == 1
    body = receiver.accepted[0]
    assert (body["alert"], body["screening_id"], body["from_status"], body["to_status"]) == (
        alert_id, "p-1", "ineligible", "eligible")
    assert [c["id"] for c in body["changed"]] == ["EXC-CMV-PCR"]
    assert body["changed"][0]["verdict"] == "pass" and body["changed"][0]["reason"]
    assert body["link"] == f"{BASE_URL}/ui/patients/p-1"


def test_the_receiver_refuses_an_old_timestamp_a_tampered_body_and_a_wrong_secret(receiver):
    receiver.secret = "whsec_test"
    body = json.dumps({"alert": 1, "screening_id": "p-1"}).encode()
    now = int(datetime.now(timezone.utc).timestamp())

    def send(content: bytes, header: str) -> int:
        return httpx.post(receiver.url, content=content, headers={HEADER: header}).status_code

    assert send(body, sign("whsec_test", body, now)) == 204
    assert send(body, sign("whsec_test", body, now - 301)) == 400
    assert send(body.replace(b"p-1", b"p-2"), sign("whsec_test", body, now)) == 400
    assert send(body, sign("whsec_other", body, now)) == 400
    assert (len(receiver.accepted), receiver.refused) == (1, 3)


def test_a_delivery_task_run_twice_sends_once(client, tokens, rt, smtp, receiver):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    alert_id = raise_alert(client, tokens, rt, deliver=False)
    assert [name for name, _, _ in rt.celery.sent] == ["myocit.deliver_alert"]
    assert tasks.deliver_alert.run(alert_id) == 2
    assert tasks.deliver_alert.run(alert_id) == 0
    rt.clock.advance(3600)
    assert tasks.sweep.run() == {"evaluations": 0, "alerts": 0, "retries": 0}
    run_pending(rt)
    assert len(smtp.mails) == 1 and len(receiver.accepted) == 1
    assert sorted(d["status"] for d in deliveries_of(client, tokens)) == ["sent", "sent"]


def test_a_failing_endpoint_is_retried_with_backoff_then_failed_visibly_and_retryable(
        client, tokens, rt, receiver):
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    receiver.answer = 503
    receiver.clock = rt.clock.now  # the service's clock is moved forward to make retries due
    raise_alert(client, tokens, rt)
    waits = []
    for _ in range(10):
        [row] = deliveries_of(client, tokens)
        if row["status"] != "pending":
            break
        wait = (datetime.fromisoformat(row["next_attempt_at"]).replace(tzinfo=timezone.utc)
                - rt.clock.now()).total_seconds()
        waits.append(round(wait / 30) * 30)
        assert tasks.sweep.run()["retries"] == 0
        rt.clock.advance(wait + 1)
        assert tasks.sweep.run()["retries"] == 1
        run_pending(rt)
    assert waits == [30, 60, 120, 240, 480]
    assert receiver.failed == 6 and receiver.accepted == []

    [failed] = deliveries_of(client, tokens, "failed", who="coordinator")
    assert (failed["attempts"], failed["last_error"], failed["next_attempt_at"]) == (
        6, "webhook answered 503", None)
    assert deliveries_of(client, tokens, "failed", who="coordinator-site-b") == []
    elsewhere = client.post(f"/deliveries/{failed['id']}/retry", headers=tokens["coordinator-site-b"])
    assert elsewhere.status_code == 404

    receiver.answer = 204
    retried = client.post(f"/deliveries/{failed['id']}/retry", headers=tokens["coordinator"])
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    run_pending(rt)
    assert len(receiver.accepted) == 1
    assert deliveries_of(client, tokens, "failed") == []
    again = client.post(f"/deliveries/{failed['id']}/retry", headers=tokens["coordinator"])
    assert again.status_code == 409
    assert again.json()["resourceType"] == "OperationOutcome"


def test_every_attempt_of_a_delivery_carries_the_same_delivery_id_and_other_deliveries_another(
        client, tokens, rt, smtp, receiver):
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    second = subscribe(client, tokens, "site-a", "webhook", receiver.url + "/second")
    receiver.answer = 503
    receiver.clock = rt.clock.now
    raise_alert(client, tokens, rt)
    first_round = list(receiver.delivery_ids)
    assert receiver.failed == 1 and receiver.refused == 1  # the second subscription has its own secret
    for _ in range(2):
        rt.clock.advance(600)
        tasks.sweep.run()
        run_pending(rt)
    receiver.answer = 204
    rt.clock.advance(600)
    tasks.sweep.run()
    run_pending(rt)
    assert len(receiver.accepted) == 1 and receiver.failed == 3
    assert len(set(receiver.delivery_ids)) == 1 and receiver.delivery_ids == first_round * 4
    uuid.UUID(first_round[0])
    receiver.secret = second["secret"]
    rt.clock.advance(600)
    tasks.sweep.run()
    run_pending(rt)
    assert receiver.delivery_ids[-1] not in first_round


def test_an_alert_email_carries_its_delivery_id(client, tokens, rt, smtp):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    raise_alert(client, tokens, rt)
    [mail] = smtp.mails
    assert re.search(r"^Myocit-Delivery-Id: [0-9a-f-]{36}\r?$", mail.raw, re.MULTILINE)


def test_a_unit_given_as_free_text_reaches_no_email_and_no_webhook(client, tokens, rt, smtp, receiver):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    record = eligible_record("p-9", DAY)
    [count] = [r for r in record if r.get("code", {}).get("coding", [{}])[0].get("code") == "26499-4"]
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    # The same result corrected by the lab, its unit now only text (HL7 OBX-6.2, FHIR unit without code).
    corrected = count | {"valueQuantity": {"value": 4.2, "unit": "unites du Dr Martin"}}
    assert client.post("/fhir", json=bundle([corrected]), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    mails = [m for m in smtp.mails if "incomplete" in m.subject]
    hooks = [b for b in receiver.accepted if b["to_status"] == "incomplete"]
    assert len(mails) == 1 and len(hooks) == 1
    assert "EXC-ANC" in mails[0].text and "free text" in mails[0].text
    assert "Martin" not in mails[0].raw and "Martin" not in json.dumps(hooks[0])


def test_bodies_carry_no_name_birth_date_or_record_number(client, tokens, rt, smtp, receiver):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    receiver.secret = subscribe(client, tokens, "site-a", "webhook", receiver.url)["secret"]
    raise_alert(client, tokens, rt)
    sent = [smtp.mails[0].raw, smtp.mails[0].text, smtp.mails[0].subject, json.dumps(receiver.accepted[0])]
    for text in sent:
        for secret in (BIRTH, NAME, "Léa", MRN, "1.2.250.1.71.4.2.7"):
            assert secret not in text


def test_no_delivery_goes_out_for_a_child_whose_alerts_were_stopped(client, tokens, rt, smtp):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    alert_id = raise_alert(client, tokens, rt, deliver=False)
    with rt.uow() as uow:
        stop_alerts(uow.session, "p-1", rt.clock.now())
        uow.commit()
    run_pending(rt)
    assert smtp.mails == [] and deliveries_of(client, tokens) == []
    assert tasks.deliver_alert.run(alert_id) == 0


def test_a_retry_pending_when_alerts_are_stopped_is_stopped_not_sent(client, tokens, rt, smtp):
    subscribe(client, tokens, "site-a", "email", "coordinators@site-a.example.org")
    smtp_port = rt.settings.smtp_port
    rt.settings.smtp_port = free_port()  # nobody listens there: the first attempt fails
    alert_id = raise_alert(client, tokens, rt)
    rt.settings.smtp_port = smtp_port
    with rt.uow() as uow:
        row = uow.session.scalar(select(Delivery).where(Delivery.alert_pk == alert_id))
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error == "SMTP failed: ConnectionRefusedError"
        stop_alerts(uow.session, "p-1", rt.clock.now())
        uow.commit()
    rt.clock.advance(31)
    tasks.sweep.run()
    run_pending(rt)
    assert smtp.mails == []
    assert [(d["status"], d["last_error"]) for d in deliveries_of(client, tokens)] == [
        ("stopped", "alerts stopped for this patient")]


def test_subscriptions_are_for_admins_and_their_secret_is_shown_once(client, tokens, receiver):
    wanted = {"site": "site-a", "channel": "webhook", "target": receiver.url}
    answer = client.post("/subscriptions", json=wanted, headers=tokens["coordinator"])
    assert answer.status_code == 403 and answer.json()["resourceType"] == "OperationOutcome"
    created = subscribe(client, tokens, "site-a", "webhook", receiver.url)
    assert created["secret"].startswith("whsec_")
    listed = client.get("/subscriptions", headers=tokens["admin"]).json()
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
    assert client.get("/subscriptions", headers=tokens["coordinator"]).status_code == 403
    bad = client.post("/subscriptions", json={"site": "site-a", "channel": "webhook", "target": "ftp://x"},
                      headers=tokens["admin"])
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"
    assert client.post("/subscriptions", json={"site": "site-a", "channel": "sms", "target": "+33600000000"},
                       headers=tokens["admin"]).status_code == 400
    assert client.get("/deliveries", headers=tokens["lab"]).status_code == 403




def test_a_deactivated_subscription_gets_nothing_more_and_keeps_its_history(client, tokens, rt, smtp):
    first = subscribe(client, tokens, "site-a", "email", "coordinators-a@hospital.example")
    raise_alert(client, tokens, rt, "p-1")
    assert len(smtp.mails) == 1
    assert client.post(f"/subscriptions/{first['id']}/deactivate", headers=tokens["coordinator"]).status_code == 403
    answer = client.post(f"/subscriptions/{first['id']}/deactivate", headers=tokens["admin"])
    assert answer.status_code == 200 and answer.json()["active"] is False
    assert client.post("/subscriptions/999/deactivate", headers=tokens["admin"]).status_code == 404
    raise_alert(client, tokens, rt, "p-2")
    assert len(smtp.mails) == 1
    assert [d["status"] for d in deliveries_of(client, tokens)] == ["sent"]
