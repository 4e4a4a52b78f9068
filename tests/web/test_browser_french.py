"""The pages in French in a real headless Chromium against `myocit run` (contract §18): the selector on
every page, the choice remembered, `lang="fr"` on the document, and no axe-core violation."""

from __future__ import annotations

import pytest

from tests.fhir_samples import DETECTED, coded, eligible_record
from tests.web.conftest import DAY
from tests.web.test_browser import (  # noqa: F401  (chromium_path and service are fixtures)
    ARGS,
    _post_record,
    _sign_in,
    _stored,
    _wait,
    chromium_path,
    service,
)
from tests.web.test_browser_reading import _no_axe_violations

pytestmark = pytest.mark.browser

KID = "kid-francais"


def test_a_coordinator_reads_every_page_in_french_with_no_accessibility_violation(service, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, tokens, log, database = service
    _post_record(base, tokens, eligible_record(KID, DAY, with_cmv=False)
                 + [coded(KID, "4996-5", DETECTED, "2026-11-25")])
    _wait(lambda: _stored(database, KID) == "ineligible", 60, log)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            page = _sign_in(browser, base, tokens["coordinator"])
            page.get_by_role("navigation", name="Language").get_by_role("link", name="Français").click()
            page.wait_for_url(f"{base}/ui")
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_have_text("Liste de travail")
            _no_axe_violations(page)
            page.goto(f"{base}/ui/patients/{KID}")
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.locator("tr#c-EXC-CMV-PCR")).to_contain_text("le 25 novembre 2026")
            _no_axe_violations(page)
            for path in ("/ui/alerts", "/ui/screening-log", f"/ui/patients/{KID}/checklist"):
                page.goto(f"{base}{path}")
                expect(page.locator("html")).to_have_attribute("lang", "fr")
                _no_axe_violations(page)
            page.get_by_role("navigation", name="Langue").get_by_role("link", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
        finally:
            browser.close()
