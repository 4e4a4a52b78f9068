"""The trial's records on the pages, in process: record an outcome and see the funnel change, sign
with the token asked again, print the checklist, download the log, and give a reason when an
attestation replaces an earlier one."""

from __future__ import annotations

import re

from sqlalchemy import select

from store.models import Confirmation
from tests.api.conftest import run_pending
from tests.fhir_samples import eligible_record
from tests.inprocess import post_record
from tests.web.conftest import DAY, Browser


def _funnel_counts(html: str) -> dict[str, int]:
    return {k.lower(): int(v) for k, v in re.findall(r"<li>(\w+) <strong>(\d+)</strong></li>", html)}


def _eligible(api, tokens, rt, pid="kid-s"):
    assert post_record(api, tokens, eligible_record(pid, DAY)).status_code == 202
    run_pending(rt)


def test_an_outcome_recorded_on_the_patient_page_changes_the_funnel(app, api, tokens, rt):
    _eligible(api, tokens, rt)
    coordinator = Browser(app, tokens["coordinator"])
    before = coordinator.get("/ui/screening-log")
    assert before.status_code == 200 and 'href="/ui/screening-log"' in before.text
    assert before.headers["content-security-policy"].startswith("default-src 'self'")
    assert _funnel_counts(before.text)["approached"] == 0 and _funnel_counts(before.text)["screened"] == 1
    # The charts are drawn in the page: nothing is loaded from another host (a CDN's script or style).
    assert "<svg" in before.text and 'role="img"' in before.text
    assert re.search(r'(?:src|href)="(?:https?:)?//', before.text) is None
    assert before.text.count('class="label criterion"') == 34 and "Positive blood CMV PCR<title>EXC-CMV-PCR</title>" in before.text
    assert '<text x="690" y="15" class="head">fail/unknown/review</text>' in before.text
    page = coordinator.get("/ui/patients/kid-s").text
    assert 'action="/ui/patients/kid-s/outcome"' in page and 'action="/ui/patients/kid-s/confirmation"' not in page
    refused = coordinator.post("/ui/patients/kid-s/outcome", {"outcome": "declined"})
    assert refused.status_code == 400 and "reason is required" in refused.text
    done = coordinator.post("/ui/patients/kid-s/outcome", {"outcome": "enrolled"})
    assert done.status_code == 303 and done.headers["location"].endswith("done=outcome")
    after = _funnel_counts(coordinator.get("/ui/screening-log").text)
    assert (after["approached"], after["enrolled"]) == (1, 1)
    assert "outcome recorded: Enrolled by coordinator" in coordinator.get("/ui/patients/kid-s").text
    forged = coordinator.client.post("/ui/patients/kid-s/outcome", data={"outcome": "approached", "csrf": "x"})
    assert forged.status_code == 403


def test_the_log_page_filters_by_period_and_downloads_the_csv(app, api, tokens, rt):
    _eligible(api, tokens, rt)
    coordinator = Browser(app, tokens["coordinator"])
    empty = coordinator.get("/ui/screening-log?from=2026-12-02").text
    assert _funnel_counts(empty)["screened"] == 0 and "No child was first screened" in empty
    assert 'href="/ui/screening-log.csv?from=2026-12-02"' in empty
    assert "is not a date" in coordinator.get("/ui/screening-log?from=someday").text
    csv = coordinator.get("/ui/screening-log.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("patient,site,first_screened,status")
    assert "kid-s,site-a,2026-12-01,eligible" in csv.text
    assert coordinator.get("/ui/screening-log?site=site-b").status_code == 404


def test_an_investigator_signs_with_the_token_asked_again_and_prints_the_checklist(app, api, tokens, rt):
    _eligible(api, tokens, rt)
    investigator = Browser(app, tokens["investigator"])
    page = investigator.get("/ui/patients/kid-s").text
    assert 'action="/ui/patients/kid-s/confirmation"' in page and 'name="reauth" type="password"' in page
    wrong = investigator.post("/ui/patients/kid-s/confirmation", {"as_of": "2026-12-01", "reauth": tokens["coordinator"]})
    assert wrong.status_code == 403 and "nothing was signed" in wrong.text
    early = investigator.post("/ui/patients/kid-s/confirmation", {"as_of": "2026-11-30", "reauth": tokens["investigator"]})
    assert early.status_code == 409
    signed = investigator.post("/ui/patients/kid-s/confirmation",
                               {"as_of": "2026-12-01", "reauth": tokens["investigator"], "meaning": ""})
    assert signed.status_code == 303 and signed.headers["location"].endswith("done=confirmed")
    with rt.uow() as uow:
        digest = uow.session.scalar(select(Confirmation.sha256))
    page = investigator.get("/ui/patients/kid-s").text
    assert "Stands" in page and digest in page and "eligibility confirmed and signed by investigator" in page
    checklist = investigator.get("/ui/patients/kid-s/checklist").text
    assert checklist.count('<th scope="row"><span class="cname">') == 34
    assert checklist.count('<p class="quote sentence">') == 34 and "Positive blood CMV PCR" in checklist
    assert '/ui/static/print.css' in checklist and digest in checklist
    assert "I confirm that this child meets every eligibility criterion" in checklist
    assert investigator.get("/ui/static/print.css").status_code == 200
    funnel = _funnel_counts(investigator.get("/ui/screening-log").text)
    assert funnel["confirmed"] == 1
    coordinator = Browser(app, tokens["coordinator"])
    assert coordinator.post("/ui/patients/kid-s/confirmation",
                            {"as_of": "2026-12-01", "reauth": tokens["coordinator"]}).status_code == 403


def test_an_attestation_replacing_an_earlier_one_needs_a_reason_shown_in_the_timeline(app, api, tokens, rt):
    _eligible(api, tokens, rt)
    investigator = Browser(app, tokens["investigator"])
    form = {"criterion": "EXC-OTHER-TRIAL", "verdict": "pass", "justification": "checked with the family"}
    assert 'id="reason-EXC-OTHER-TRIAL"' not in investigator.get("/ui/patients/kid-s").text
    assert investigator.post("/ui/patients/kid-s/attest", form).status_code == 303  # the first on the pages
    run_pending(rt)
    assert 'id="reason-EXC-OTHER-TRIAL"' in investigator.get("/ui/patients/kid-s").text
    form = {"criterion": "EXC-OTHER-TRIAL", "verdict": "fail", "justification": "enrolled in another trial"}
    refused = investigator.post("/ui/patients/kid-s/attest", form)
    assert refused.status_code == 400 and "reason for changing" in refused.text
    done = investigator.post("/ui/patients/kid-s/attest", form | {"reason": "the family told us on the phone"})
    assert done.status_code == 303
    run_pending(rt)
    page = investigator.get("/ui/patients/kid-s").text
    assert ("attestation: Another interventional study (EXC-OTHER-TRIAL) applies (fail) by investigator — "
            "reason for change: the family told us") in page
