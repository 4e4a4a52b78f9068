"""The pages in process: what the worklist and patient page say, and what forms store and audit."""

from __future__ import annotations

import json

from sqlalchemy import select

from store.models import Alert, AuditEntry, Message, Patient
from tests.api.conftest import run_pending
from tests.fhir_samples import DETECTED, coded, eligible_record, immunization
from tests.inprocess import bearer, post_record
from tests.web.conftest import DAY, Browser, cmv_flip


def _post(api, tokens, resources):
    """A record posted by the lab and the investigator of its child's site."""
    assert post_record(api, tokens, resources).status_code == 202


def _without(resources, criterion):
    return [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") != criterion]


def _section(html: str, status: str) -> str:
    start = html.index(f'id="{status}"')
    return html[start:html.index("</section>", start)]


def _audit(rt) -> list[tuple[str, str, str | None]]:
    with rt.uow() as uow:
        # A child is named by its screening id in the audit (contract §17): shown here as Patient/{id}.
        ids = dict(uow.session.execute(select(Patient.screening_id, Patient.id)).all())
        return [(e.actor, e.action, f"Patient/{ids[e.screening_id]}" if e.screening_id in ids else e.target)
                for e in uow.session.scalars(select(AuditEntry).order_by(AuditEntry.pk))]


def test_the_worklist_groups_children_by_status_and_says_what_to_do(app, api, tokens, rt):
    _post(api, tokens, eligible_record("kid-ok", DAY))
    _post(api, tokens, eligible_record("kid-wait", DAY) + [immunization("kid-wait", "03", "2026-11-20")])
    _post(api, tokens, _without(eligible_record("kid-todo", DAY, with_cmv=False), "EXC-SEVERE-JDM"))
    _post(api, tokens, eligible_record("kid-no", DAY, with_cmv=False) + [coded("kid-no", "4996-5", DETECTED, "2026-11-25")])
    _post(api, tokens, eligible_record("kid-elsewhere", DAY, site="site-b"))
    run_pending(rt)
    page = Browser(app, tokens["coordinator"]).get("/ui").text
    assert "kid-ok" in _section(page, "eligible")
    assert "Eligible from: 2026-12-19" in _section(page, "waiting")
    todo = _section(page, "incomplete")
    assert "kid-todo" in todo and "No blood CMV PCR result" in todo
    assert '(<span class="cname">Positive blood CMV PCR</span> <span class="cid">EXC-CMV-PCR</span>)' in todo
    assert "Investigator attestation" in todo and '<span class="cname">Severe JDM involvement</span>' in todo
    blocked = _section(page, "ineligible")
    assert "kid-no" in blocked and "EXC-CMV-PCR" in blocked
    assert "kid-elsewhere" not in page
    assert "2016-01-15" not in page and "age 10" in page


def test_the_patient_page_shows_every_criterion_the_timeline_and_a_planned_date(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-1", "site-a")
    browser = Browser(app, tokens["investigator"])
    page = browser.get("/ui/patients/kid-1").text
    assert page.count('<tr id="c-') == 34
    assert "Not detected" in page or "EXC-CMV-PCR" in page
    assert "first screened: ineligible" in page and "ineligible → eligible" in page
    assert "alert raised: ineligible → eligible" in page
    assert page.count('action="/ui/patients/kid-1/attest"') == 1
    assert page.count('<fieldset class="attest"') == 16 and page.count('name="verdict-') == 48
    assert "Inability to be treated by oral way or to take pills" in page  # the protocol's sentence
    assert "2016-01-15" not in page
    planned = browser.get("/ui/patients/kid-1?as_of=2027-02-01").text
    assert "Computed for the planned date 2027-02-01" in planned
    assert "is not a date" in browser.get("/ui/patients/kid-1?as_of=tomorrow").text
    coordinator = Browser(app, tokens["coordinator"]).get("/ui/patients/kid-1").text
    assert "/attest" not in coordinator and "/consent" in coordinator
    assert ("investigator", "view", "Patient/kid-1") in _audit(rt)


def test_an_attestation_is_stored_as_fhir_data_re_screens_the_child_and_is_audited(app, api, tokens, rt):
    _post(api, tokens, eligible_record("kid-2", DAY))
    run_pending(rt)
    browser = Browser(app, tokens["investigator"])
    done = browser.post("/ui/patients/kid-2/attest",
                        {"criterion": "EXC-OTHER-TRIAL", "verdict": "fail", "justification": "enrolled in another trial"})
    assert done.status_code == 303 and done.headers["location"].endswith("done=attested")
    run_pending(rt)
    with rt.uow() as uow:
        message = uow.session.scalars(select(Message).where(Message.channel == "ui")).one()
        message_pk, sender, body = message.pk, message.sender, message.body
        status = uow.session.scalar(select(Patient.status).where(Patient.id == "kid-2"))
    assert sender == "investigator"
    observation = json.loads(body)
    assert observation["code"]["coding"] == [{"system": "urn:myocit:criterion", "code": "EXC-OTHER-TRIAL"}]
    assert observation["valueCodeableConcept"]["coding"] == [{"system": "urn:myocit:verdict", "code": "fail"}]
    assert observation["note"] == [{"text": "enrolled in another trial"}]
    assert observation["subject"] == {"reference": "Patient/kid-2"}
    assert observation["effectiveDateTime"].startswith("2026-12-01T") and observation["effectiveDateTime"][-6] in "+-"
    assert status == "ineligible"
    assert ("investigator", "post", f"Message/{message_pk}") in _audit(rt)
    assert ("investigator", "attest", "Patient/kid-2") in _audit(rt)
    page = browser.get("/ui").text
    assert "kid-2" in _section(page, "ineligible") and "enrolled in another trial" not in page


def test_a_bad_attestation_is_refused_and_nothing_is_stored(app, api, tokens, rt):
    _post(api, tokens, eligible_record("kid-3", DAY))
    browser = Browser(app, tokens["investigator"])
    assert browser.post("/ui/patients/kid-3/attest", {"criterion": "EXC-CMV-PCR", "verdict": "pass",
                                                      "justification": "x"}).status_code == 400
    assert browser.post("/ui/patients/kid-3/attest", {"criterion": "EXC-ORAL", "verdict": "pass",
                                                      "justification": "  "}).status_code == 400
    with rt.uow() as uow:
        assert uow.session.scalars(select(Message).where(Message.channel == "ui")).all() == []


def test_a_refused_consent_stops_alerts_for_the_child_and_the_stop_is_audited(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-4", "site-a")
    browser = Browser(app, tokens["coordinator"])
    assert browser.post("/ui/patients/kid-4/consent", {"decision": "rejected"}).status_code == 303
    run_pending(rt)
    with rt.uow() as uow:
        row = uow.session.scalar(select(Patient).where(Patient.id == "kid-4"))
        assert row.status == "ineligible" and row.alerts_stopped_at is not None
        alerts = uow.session.execute(select(Alert.from_status, Alert.to_status).where(Alert.patient_pk == row.pk)).all()
    assert [tuple(a) for a in alerts] == [("ineligible", "eligible")]
    entries = _audit(rt)
    assert ("coordinator", "consent", "Patient/kid-4") in entries
    assert entries.count(("system", "alerts-stopped", "Patient/kid-4")) == 1
    assert "alerts stopped" in browser.get("/ui/patients/kid-4").text


def test_the_inbox_lists_alerts_and_acknowledges_them(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-5", "site-a")
    browser = Browser(app, tokens["coordinator"])
    inbox = browser.get("/ui/alerts").text
    assert "To acknowledge (1)" in inbox and "kid-5" in inbox
    alert = api.get("/alerts", headers=bearer(tokens["coordinator"])).json()[0]
    assert browser.post(f"/ui/alerts/{alert['id']}/ack").status_code == 303
    assert "To acknowledge (0)" in browser.get("/ui/alerts").text
    assert api.get("/alerts", headers=bearer(tokens["coordinator"])).json()[0]["acknowledged_at"] is not None
    assert ("coordinator", "ack", f"Alert/{alert['id']}") in _audit(rt)


def test_api_reads_and_posts_are_audited(api, tokens, rt):
    _post(api, tokens, eligible_record("kid-6", DAY))
    run_pending(rt)
    api.get("/patients/kid-6/eligibility", headers=bearer(tokens["investigator"]))
    api.get("/alerts", headers=bearer(tokens["coordinator"]))
    entries = _audit(rt)
    posts = [(actor, target) for actor, action, target in entries if action == "post"]
    assert [actor for actor, _ in posts] == ["investigator", "lab"]  # the attestations, then the lab's data
    assert all(target.startswith("Message/") for _, target in posts)
    assert ("investigator", "view", "Patient/kid-6") in entries
    assert ("coordinator", "view-alerts", "Site/site-a") in entries


def test_signing_out_ends_the_session_and_only_admin_reads_the_audit_log(app, tokens):
    admin = Browser(app, tokens["admin"])
    assert "sign-in" in admin.get("/ui/audit").text
    assert admin.post("/ui/logout").headers["location"].startswith("/ui/login")
    assert admin.get("/ui").headers["location"] == "/ui/login"
    assert Browser(app, tokens["coordinator"]).get("/ui/audit").status_code == 403


def test_session_cookies_are_http_only_and_same_site_strict(app, tokens):
    cookie = Browser(app, tokens["coordinator"]).signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and tokens["coordinator"].lower() not in cookie
