"""The trial's records (contract §8, §9) in a real headless Chromium against `myocit run`.

A lab posts an eligible child's record (its attestations posted by the site's investigator, contract
§13) and an incomplete one; the coordinator records that the eligible child was approached and sees
the funnel of the screening log change; the investigator signs the child's eligibility on the patient
page (pasting the token again), sees the signature block and opens the printable checklist; a
signature with another's token, and a child of no site of theirs, end on the error page.
`MYOCIT_SCREENSHOTS=docs` refreshes docs/screening-log.png, docs/confirmation.png and
docs/checklist.png, as in tests/web/test_browser.py.
"""

from __future__ import annotations

import re

import pytest

from tests.fhir_samples import eligible_record
from tests.web.conftest import DAY
from tests.web.test_browser import (  # noqa: F401  (chromium_path and service are fixtures)
    ARGS,
    ROOT,
    SCREENSHOTS,
    _post_record,
    _sign_in,
    _stored,
    _wait,
    chromium_path,
    service,
)

pytestmark = pytest.mark.browser

KID = "kid-trial"
OTHER = "kid-trial-no-cmv"


def _funnel_step(page, label: str):
    """The item of the funnel's summary list that counts ``label`` (e.g. "Approached 0")."""
    funnel = page.get_by_role("region", name="Funnel")
    return funnel.get_by_role("listitem").filter(has_text=re.compile(rf"^\s*{label}\b"))


def test_an_outcome_moves_the_funnel_then_the_investigator_signs_and_prints_the_checklist(
        service, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = ROOT / SCREENSHOTS if SCREENSHOTS else tmp_path
    base, tokens, log, database = service
    _post_record(base, tokens, eligible_record(KID, DAY))
    _post_record(base, tokens, eligible_record(OTHER, DAY, with_cmv=False))
    _wait(lambda: _stored(database, KID) == "eligible", 60, log)
    _wait(lambda: _stored(database, OTHER) == "incomplete", 60, log)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            # The coordinator: the funnel before, the outcome on the patient page, the funnel after.
            page = _sign_in(browser, base, tokens["coordinator"])
            main_nav = page.get_by_role("navigation", name="Main")
            main_nav.get_by_role("link", name="Screening log").click()
            page.wait_for_url(f"{base}/ui/screening-log")
            expect(page.get_by_role("heading", name="Screening log", level=1)).to_be_visible()
            expect(_funnel_step(page, "Screened")).to_have_text("Screened 2")
            expect(_funnel_step(page, "Eligible")).to_have_text("Eligible 1")
            expect(_funnel_step(page, "Approached")).to_have_text("Approached 0")
            expect(page.get_by_role("heading", name="The log (2 children)")).to_be_visible()

            page.get_by_role("link", name=KID, exact=True).click()
            page.wait_for_url(f"{base}/ui/patients/{KID}")
            outcome = page.get_by_role("region", name="After screening")
            expect(outcome).to_contain_text("No outcome recorded yet.")
            outcome.get_by_role("group", name="What happened").get_by_label("Approached", exact=True).check()
            outcome.get_by_role("button", name="Record the outcome").click()
            page.wait_for_url(f"{base}/ui/patients/{KID}?done=outcome")
            expect(page.get_by_role("status").first).to_have_text("Outcome recorded.")
            expect(outcome).to_contain_text("Latest outcome: Approached, recorded by coordinator A1")
            expect(page.locator(".timeline")).to_contain_text("outcome recorded: Approached by coordinator A1")

            page.get_by_role("navigation", name="Main").get_by_role("link", name="Screening log").click()
            page.wait_for_url(f"{base}/ui/screening-log")
            expect(_funnel_step(page, "Approached")).to_have_text("Approached 1")
            expect(_funnel_step(page, "Screened")).to_have_text("Screened 2")
            expect(page.get_by_role("img", name="Funnel: screened, eligible, approached, enrolled")).to_be_visible()
            row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=KID, exact=True))
            expect(row).to_contain_text("approached")
            page.screenshot(path=str(shots / "screening-log.png"), full_page=True)

            # The investigator: signs (the token asked again), sees the signature, opens the print view.
            investigator = tokens["investigator"]
            page = _sign_in(browser, base, investigator)
            page.goto(f"{base}/ui/patients/{KID}")
            confirmation = page.get_by_role("region", name="Investigator's confirmation of eligibility")
            expect(confirmation).to_contain_text("Not confirmed.")
            meaning = confirmation.get_by_label("Meaning of your signature")
            expect(meaning).to_have_value(re.compile(
                rf"^I confirm that this child meets every eligibility criterion of the MYOCIT protocol \S+ "
                rf"as of {DAY.isoformat()}\.$"))
            confirmation.get_by_label("Paste your token again to sign").fill(investigator)
            confirmation.get_by_role("button", name=f"Sign: confirm eligibility as of {DAY.isoformat()}").click()
            page.wait_for_url(f"{base}/ui/patients/{KID}?done=confirmed")
            expect(page.get_by_role("status").first).to_contain_text("Eligibility confirmed and signed.")
            signature = confirmation.locator(".signature")
            expect(signature).to_have_count(1)
            expect(signature).to_contain_text("Stands")
            expect(signature).to_contain_text("investigator A1 (investigator")
            expect(signature).to_contain_text(f"{DAY.isoformat()} · protocol ")
            expect(signature.locator(".hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
            expect(page.locator(".timeline")).to_contain_text("eligibility confirmed and signed by investigator A1")
            confirmation.scroll_into_view_if_needed()
            confirmation.screenshot(path=str(shots / "confirmation.png"))

            confirmation.get_by_role("link", name="Printable eligibility checklist").click()
            page.wait_for_url(f"{base}/ui/patients/{KID}/checklist")
            expect(page.get_by_role("heading", name=f"MYOCIT eligibility checklist: {KID}")).to_be_visible()
            checklist = page.get_by_role("table", name="The 34 criteria")
            expect(checklist.get_by_role("row")).to_have_count(35)
            expect(page.get_by_role("main").get_by_text("latest stored screening")).to_contain_text("status eligible")
            signatures = page.get_by_role("region", name="Signature")
            expect(signatures).to_contain_text("investigator A1 (investigator)")
            expect(signatures).to_contain_text("valid")
            expect(signatures).not_to_contain_text("Not signed.")
            page.emulate_media(media="print")
            expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
            expect(page.get_by_role("navigation", name="Breadcrumb")).to_be_hidden()
            expect(page.get_by_role("heading", name=f"MYOCIT eligibility checklist: {KID}")).to_be_visible()
            page.screenshot(path=str(shots / "checklist.png"), full_page=True)

            # What the service refuses comes back as the error page (web/errors.py), in the page's words.
            page.emulate_media(media="screen")
            page.goto(f"{base}/ui/patients/{KID}")
            confirmation = page.get_by_role("region", name="Investigator's confirmation of eligibility")
            confirmation.get_by_label("Paste your token again to sign").fill(tokens["coordinator"])
            confirmation.get_by_role("button", name=f"Sign: confirm eligibility as of {DAY.isoformat()}").click()
            expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
            expect(page.get_by_role("alert")).to_have_text(re.compile(r"^The token you entered again is not yours"))
            page.goto(f"{base}/ui/patients/nobody-here")
            expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
            expect(page.get_by_role("alert")).to_have_text("No patient nobody-here for this site.")
        finally:
            browser.close()
