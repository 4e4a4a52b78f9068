"""The pages as coordinators and investigators read them: criteria by name, several attestations from
one form (each its own audited attestation), a timeline that groups what one message did, alerts with
the child's status now, and a screening log whose per-criterion counts say what they count."""

from __future__ import annotations

import json

from sqlalchemy import select

from store.models import AuditEntry, Message, Patient
from tests.api.conftest import run_pending
from tests.fhir_samples import eligible_record
from tests.inprocess import post_record
from tests.web.conftest import DAY, Browser, cmv_flip


def _record(api, tokens, rt, pid: str, *, without: tuple[str, ...] = ()) -> None:
    record = [r for r in eligible_record(pid, DAY)
              if r.get("code", {}).get("coding", [{}])[0].get("code") not in without]
    assert post_record(api, tokens, record).status_code == 202
    run_pending(rt)


def _page_attestations(rt) -> list[dict]:
    with rt.uow() as uow:
        return [json.loads(body) for body in
                uow.session.scalars(select(Message.body).where(Message.channel == "ui").order_by(Message.pk))]


def _attest_audits(rt, pid: str) -> int:
    with rt.uow() as uow:
        # The audit names a child by its screening id, never by the EHR's id (contract §17).
        sid = uow.session.scalar(select(Patient.screening_id).where(Patient.id == pid))
        return len(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "attest",
                                                                AuditEntry.screening_id == sid)).all())


def test_one_form_records_several_attestations_each_its_own_observation_and_audit(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-m", without=("EXC-ORAL", "EXC-VTE-RISK", "INC-JDM-ENMC2018"))
    browser = Browser(app, tokens["investigator"])
    form = {"verdict-EXC-ORAL": "pass", "why-EXC-ORAL": "swallows tablets",
            "verdict-EXC-VTE-RISK": "pass", "verdict-INC-JDM-ENMC2018": "pass",
            "verdict-EXC-CANCER-HX": "",  # left as it is
            "justification": "reviewed at the clinic visit"}
    done = browser.post("/ui/patients/kid-m/attest", form)
    assert done.status_code == 303 and done.headers["location"].endswith("done=attested")
    messages = _page_attestations(rt)
    assert len(messages) == 1 and messages[0]["type"] == "transaction"  # recorded whole, or not at all
    stored = [entry["resource"] for entry in messages[0]["entry"]]
    assert [o["code"]["coding"][0]["code"] for o in stored] == ["EXC-ORAL", "EXC-VTE-RISK", "INC-JDM-ENMC2018"]
    assert [o["note"] for o in stored] == [[{"text": "swallows tablets"}], [{"text": "reviewed at the clinic visit"}],
                                           [{"text": "reviewed at the clinic visit"}]]
    assert all(o["performer"] == [{"display": "investigator"}] for o in stored)
    assert _attest_audits(rt, "kid-m") == 3
    run_pending(rt)
    page = browser.get("/ui/patients/kid-m").text
    on = '<span class="token">2026-12-01</span>'  # a date is never broken at its hyphens
    assert f"Investigator attested that this criterion does not apply on {on}" in page
    assert f"Investigator attested that this criterion is met on {on}" in page
    assert "3 attestations recorded together by investigator" in page


def test_a_form_with_one_bad_attestation_records_none_of_them(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-n")
    browser = Browser(app, tokens["investigator"])
    refused = [
        {"verdict-EXC-ORAL": "pass", "verdict-EXC-CMV-PCR": "pass", "justification": "checked"},  # not attested
        {"verdict-EXC-ORAL": "pass", "verdict-EXC-VTE-RISK": "fail"},                             # no justification
        {"verdict-EXC-ORAL": "maybe", "justification": "checked"},
        {"justification": "checked"},                                                          # nothing chosen
    ]
    for form in refused:
        answer = browser.post("/ui/patients/kid-n/attest", form)
        assert answer.status_code == 400 and "could not be recorded" in answer.text
    assert _page_attestations(rt) == []
    assert _attest_audits(rt, "kid-n") == 0


def test_what_one_bundle_attested_is_one_line_of_the_timeline_that_opens(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-t")
    page = Browser(app, tokens["investigator"]).get("/ui/patients/kid-t").text
    timeline = page[page.index('id="h-timeline"'):]
    timeline = timeline[:timeline.index("</section>")]
    assert '<ol class="timeline" reversed>' in timeline
    assert timeline.count("<details>") == 1 and "16 attestations recorded together by investigator" in timeline
    assert "Cannot take oral treatment (EXC-ORAL) does not apply (pass)" in timeline
    assert "New-onset JDM (ENMC 2018) (INC-JDM-ENMC2018) is met (pass)" in timeline


def test_the_patient_page_names_each_criterion_and_quotes_its_protocol_sentence(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-q")
    page = Browser(app, tokens["coordinator"]).get("/ui/patients/kid-q").text
    assert page.count('<p class="quote sentence">') == 34
    assert '<span class="cname">High risk of venous thrombosis</span><br><span class="cid">EXC-VTE-RISK</span>' in page
    assert "considered at high risk of venous thrombosis by the investigator" in page


def test_alerts_show_the_child_s_status_now_and_the_criteria_by_name(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-a1", "site-a")
    page = Browser(app, tokens["coordinator"]).get("/ui/alerts").text
    row = page[page.index('id="alert-'):]
    row = row[:row.index("</tr>")]
    assert row.count('class="badge status-eligible"') == 2  # the change's end, and where the child stands now
    assert '<span class="cname">Positive blood CMV PCR</span> <span class="cid">EXC-CMV-PCR</span>' in row


def test_the_screening_log_names_the_counts_and_lists_criteria_by_name(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-l", without=("EXC-ORAL",))
    page = Browser(app, tokens["coordinator"]).get("/ui/screening-log").text
    assert 'class="head">fail/unknown/review</text>' in page
    log = page[page.index('id="h-log"'):]
    assert "1 missing</summary>" in log and '<span class="cname">Cannot take oral treatment</span>' in log


def test_reasons_for_change_given_in_one_form_are_each_shown_with_their_criterion(app, api, tokens, rt):
    _record(api, tokens, rt, "kid-r", without=("EXC-ORAL", "EXC-VTE-RISK"))
    browser = Browser(app, tokens["investigator"])
    first = {"verdict-EXC-ORAL": "pass", "verdict-EXC-VTE-RISK": "pass", "justification": "checked"}
    assert browser.post("/ui/patients/kid-r/attest", first).status_code == 303
    run_pending(rt)
    again = {"verdict-EXC-ORAL": "fail", "verdict-EXC-VTE-RISK": "fail", "justification": "seen again"}
    refused = browser.post("/ui/patients/kid-r/attest", again)
    assert refused.status_code == 400 and "reason for changing" in refused.text
    done = browser.post("/ui/patients/kid-r/attest", again | {"reason-EXC-ORAL": "cannot swallow since Monday",
                                                               "reason-EXC-VTE-RISK": "new thrombophilia result"})
    assert done.status_code == 303
    run_pending(rt)
    page = browser.get("/ui/patients/kid-r").text
    assert ("Cannot take oral treatment (EXC-ORAL) applies (fail) by investigator — reason for change: "
            "cannot swallow since Monday") in page
    assert ("High risk of venous thrombosis (EXC-VTE-RISK) applies (fail) by investigator — reason for change: "
            "new thrombophilia result") in page
