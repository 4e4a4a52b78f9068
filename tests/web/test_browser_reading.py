"""The pages as a coordinator and an investigator read them, in a real headless Chromium against
`myocit run`: criteria by name (the protocol's sentence on the patient page and the checklist), one form
recording several attestations, a timeline whose lines open to what one message did, alerts with the
child's status now, a screening log that fits 1280 px, and no axe-core violation on any of these pages.
"""

from __future__ import annotations

import re

import pytest

from tests.fhir_samples import DETECTED, NOT_DETECTED, coded, eligible_record
from tests.web.conftest import DAY
from tests.web.test_browser import (  # noqa: F401  (chromium_path and service are fixtures)
    ARGS,
    _post,
    _post_record,
    _sign_in,
    _stored,
    _wait,
    chromium_path,
    service,
)

pytestmark = pytest.mark.browser

KID = "kid-reading"
FLIPPED = "kid-reading-cmv"
UNATTESTED = ("EXC-ORAL", "EXC-VTE-RISK", "INC-JDM-ENMC2018")


def _no_axe_violations(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _without(resources: list[dict], criteria: tuple[str, ...]) -> list[dict]:
    return [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") not in criteria]


def test_a_coordinator_and_an_investigator_read_criteria_by_name_and_attest_several_at_once(
        service, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, tokens, log, database = service
    _post_record(base, tokens, _without(eligible_record(KID, DAY), UNATTESTED))
    _post_record(base, tokens, eligible_record(FLIPPED, DAY, with_cmv=False)
                 + [coded(FLIPPED, "4996-5", DETECTED, "2026-11-25")])
    _wait(lambda: _stored(database, KID) == "incomplete", 60, log)
    _wait(lambda: _stored(database, FLIPPED) == "ineligible", 60, log)
    _post(base, tokens["lab"], [coded(FLIPPED, "4996-5", NOT_DETECTED, "2026-11-30")])
    _wait(lambda: _stored(database, FLIPPED) == "eligible", 60, log)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            # The investigator: names and sentences, then three attestations from one form.
            page = _sign_in(browser, base, tokens["investigator"])
            incomplete = page.locator("#incomplete")
            expect(incomplete).to_contain_text("Cannot take oral treatment")
            expect(incomplete).to_contain_text("High risk of venous thrombosis")
            _no_axe_violations(page)
            page.goto(f"{base}/ui/patients/{KID}")
            row = page.locator("tr#c-EXC-ORAL")
            expect(row.get_by_role("rowheader")).to_contain_text("Cannot take oral treatment")
            expect(row.get_by_role("rowheader")).to_contain_text("Inability to be treated by oral way or to take pills")
            expect(page.locator("tr#c-EXC-ANC")).not_to_contain_text("10*9")
            _no_axe_violations(page)

            page.locator("#attest-EXC-ORAL").get_by_label("Does not apply (pass)").check()
            page.locator("#attest-EXC-VTE-RISK").get_by_label("Does not apply (pass)").check()
            jdm = page.locator("#attest-INC-JDM-ENMC2018")
            jdm.get_by_label("Is met (pass)").check()
            jdm.locator("summary").click()
            jdm.get_by_label("Justification for INC-JDM-ENMC2018").fill("ENMC 2018 criteria met at diagnosis")
            page.get_by_label("Justification for every verdict chosen above without its own").fill(
                "Reviewed at today's visit")
            page.get_by_role("button", name="Record the chosen attestations").click()
            expect(page.get_by_role("status").first).to_contain_text("Attestation recorded")
            _wait(lambda: _stored(database, KID) == "eligible", 60, log)
            page.goto(f"{base}/ui/patients/{KID}")
            expect(page.locator("tr#c-EXC-ORAL")).to_contain_text(
                "Investigator attested that this criterion does not apply")
            expect(page.locator("tr#c-INC-JDM-ENMC2018")).to_contain_text(
                "Investigator attested that this criterion is met")

            # The timeline: newest first, numbered from the first event; a message's lines open.
            timeline = page.locator("ol.timeline")
            expect(timeline).to_have_attribute("reversed", "")
            together = timeline.locator("details", has_text=re.compile(r"\b3 attestations recorded together"))
            expect(together.locator("li")).to_have_count(3)
            expect(together.locator("li").first).to_be_hidden()
            together.locator("summary").click()
            expect(together).to_contain_text("Cannot take oral treatment (EXC-ORAL) does not apply (pass)")
            bundle = timeline.locator("details", has_text="13 attestations recorded together")
            expect(bundle).to_have_count(1)
            _no_axe_violations(page)
            page.goto(f"{base}/ui/patients/{KID}/checklist")
            checklist = page.get_by_role("table", name="The 34 criteria")
            expect(checklist.locator("tr", has_text="EXC-VTE-RISK")).to_contain_text(
                "considered at high risk of venous thrombosis by the investigator")
            _no_axe_violations(page)

            # The coordinator: the alert says where the child stands now, criteria by name.
            page = _sign_in(browser, base, tokens["coordinator"])
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
            alert = page.locator("tr", has_text=FLIPPED).first
            expect(alert).to_contain_text("Positive blood CMV PCR")
            expect(alert.locator("td").nth(3)).to_have_text("eligible")
            _no_axe_violations(page)

            # The screening log at 1280 px: nothing cut off, no identifier or date broken.
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Screening log").click()
            region = page.get_by_role("region", name="The log, as a table")
            table = region.locator("table")
            expect(table).to_be_visible()
            widths = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
            assert widths[0] <= widths[1], widths
            # A cell's text on more than one line shows as client rectangles at more than one height.
            broken = table.evaluate("""t => [...t.querySelectorAll('.token')].filter(cell => {
                const range = document.createRange();
                range.selectNodeContents(cell);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
            }).map(cell => cell.textContent.trim())""")
            assert broken == []
            expect(page.get_by_role("img", name="Fail, unknown and review counts for each of the 34 criteria")) \
                .to_contain_text("fail/unknown/review")
            _no_axe_violations(page)
        finally:
            browser.close()
