"""The pages in a real headless Chromium (Debian's package, driven by Playwright) against `myocit run`.

A lab posts a positive CMV PCR, then a negative one (each child's attestations posted by the site's
investigator, contract §13); the coordinator sees the alert and acknowledges
it; the investigator attests that the child is in another trial; the worklist moves the child to
ineligible. `MYOCIT_SCREENSHOTS=docs` refreshes the README's screenshots.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fhir_samples import (
    DETECTED,
    NOT_DETECTED,
    bundle,
    coded,
    corticosteroid,
    eligible_record,
    immunization,
    post_parts,
    quantity,
)
from testkit import cli as in_process
from tests.processes import free_port, stop_group
from tests.web.conftest import DAY

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
# Screenshots are refreshed for the README only on request (MYOCIT_SCREENSHOTS=docs), so an ordinary
# run never rewrites tracked files; otherwise they land in the test's own folder.
SCREENSHOTS = os.environ.get("MYOCIT_SCREENSHOTS")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
KID = "kid-cmv"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium package; .ci/browser does)"
        if os.environ.get("MYOCIT_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """`myocit run` on the embedded default, with a token per role."""
    home = tmp_path_factory.mktemp("browser")
    own = {"MYOCIT_HOME": str(home / "var"), "MYOCIT_TODAY": DAY.isoformat(),
           "MYOCIT_SWEEP_AFTER_SECONDS": "2"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | own

    def token(role: str, *extra: str) -> str:
        made = in_process.myocit("token", "create", "--role", role, *extra, env=own, cwd=home)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    tokens = {"lab": token("lab", "--site", "site-a", "--name", "lab-system"),
              "coordinator": token("coordinator", "--site", "site-a", "--name", "coordinator A1"),
              "investigator": token("investigator", "--site", "site-a", "--name", "investigator A1")}
    port = free_port()
    log = home / "run.log"
    command = [sys.executable, "-m", "myocit.cli", "run", f"--port={port}", f"--mllp-port={free_port()}"]
    process = subprocess.Popen(command, env=env, cwd=home, start_new_session=True,
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200, 60, log)
        yield base, tokens, log, home / "var" / "myocit.sqlite"
    finally:
        stop_group(process)


def _wait(check, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, sqlite3.Error):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out; service log:\n{log.read_text()[-3000:]}")


def _post(base: str, token: str, resources: list[dict]) -> None:
    response = httpx.post(f"{base}/fhir", json=bundle(resources), timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.text


def _post_record(base: str, tokens: dict, resources: list[dict]) -> None:
    """A child's record: the attestations from the site's investigator, the rest from the lab."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = post_parts(client, {"Authorization": f"Bearer {tokens['lab']}"},
                              {"Authorization": f"Bearer {tokens['investigator']}"}, resources)
    assert response.status_code == 202, response.text


def _stored(database: Path, pid: str) -> str | None:
    """The status a worker stored (the API would compute one on the fly before the first screening)."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT status FROM patients WHERE id = ?", (pid,)).fetchone()
    return row[0] if row else None


def _sign_in(browser, base: str, token: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/ui/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/ui")
    return page


def test_a_cmv_alert_is_acknowledged_an_attestation_recorded_and_the_worklist_moves_the_child(
        service, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = ROOT / SCREENSHOTS if SCREENSHOTS else tmp_path
    base, tokens, log, database = service
    lab = tokens["lab"]
    _post_record(base, tokens,
                 eligible_record(KID, DAY, with_cmv=False) + [coded(KID, "4996-5", DETECTED, "2026-11-25")])
    _post_record(base, tokens,
                 eligible_record("kid-vaccine", DAY) + [immunization("kid-vaccine", "03", "2026-11-20")])
    _post_record(base, tokens, eligible_record("kid-no-cmv", DAY, with_cmv=False))
    _wait(lambda: _stored(database, KID) == "ineligible", 60, log)
    _post(base, lab, [coded(KID, "4996-5", NOT_DETECTED, "2026-11-30")])
    _wait(lambda: _stored(database, KID) == "eligible", 60, log)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            page = _sign_in(browser, base, tokens["coordinator"])
            page.keyboard.press("Tab")
            expect(page.locator(":focus")).to_have_text("Skip to main content")
            page.get_by_role("link", name="Alerts").click()
            row = page.locator("tr", has_text=KID)
            expect(row).to_contain_text("ineligible")
            expect(row).to_contain_text("EXC-CMV-PCR")
            page.screenshot(path=str(shots / "alerts.png"), full_page=True)
            row.get_by_role("button", name="Acknowledge").click()
            expect(page.get_by_role("status")).to_have_text("Alert acknowledged.")
            # What stays: kid-vaccine's alert as a new candidate, waiting at its first screening (§5).
            expect(page.get_by_role("heading", name="To acknowledge (1)")).to_be_visible()
            expect(page.locator("tr", has_text="kid-vaccine")).to_contain_text("New candidate")

            page = _sign_in(browser, base, tokens["investigator"])
            page.locator("#eligible").get_by_role("link", name=KID).click()
            expect(page.locator("tr#c-EXC-CMV-PCR")).to_contain_text("pass")
            page.locator("#attest-EXC-OTHER-TRIAL").get_by_label("Applies (fail)").check()
            page.get_by_label("Justification for every verdict chosen above without its own").fill(
                "Enrolled in another interventional trial")
            page.get_by_role("button", name="Record the chosen attestations").click()
            expect(page.get_by_role("status").first).to_contain_text("Attestation recorded")
            _wait(lambda: _stored(database, KID) == "ineligible", 60, log)
            page.goto(f"{base}/ui/patients/{KID}")
            expect(page.locator("tr#c-EXC-OTHER-TRIAL")).to_contain_text("fail")
            expect(page.locator(".timeline")).to_contain_text("eligible → ineligible")
            page.screenshot(path=str(shots / "patient.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": 2000})

            page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
            expect(page.locator("#ineligible")).to_contain_text(KID)
            expect(page.locator("#ineligible")).to_contain_text("EXC-OTHER-TRIAL")
            expect(page.locator("#eligible")).not_to_contain_text(KID)
            expect(page.locator("#waiting")).to_contain_text("kid-vaccine")
            expect(page.locator("#incomplete")).to_contain_text("No blood CMV PCR result")
            page.screenshot(path=str(shots / "worklist.png"), full_page=True)
        finally:
            browser.close()


def test_the_window_of_opportunity_is_shown_on_the_worklist_the_patient_page_and_the_alert(
        service, chromium_path, tmp_path):
    """Contract §1.2: prednisolone first started on 15 November passes until 16 December."""
    from playwright.sync_api import expect, sync_playwright

    base, tokens, log, database = service
    kid = "kid-window"
    _post_record(base, tokens, eligible_record(kid, DAY) + [corticosteroid(kid, "H02AB06", 60, "2026-11-15"),
                                                            quantity(kid, "29463-7", 30, "kg", "2026-12-01")])
    _wait(lambda: _stored(database, kid) == "eligible", 60, log)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            page = _sign_in(browser, base, tokens["coordinator"])
            card = page.locator("#eligible li.card", has_text=kid)
            expect(card.locator(".window")).to_contain_text("Eligible until 2026-12-16")
            expect(card.locator(".window")).to_contain_text("EXC-PRIOR-CS")
            expect(card.locator(".window")).to_contain_text("first started 2026-11-15")
            card.get_by_role("link", name=kid).click()
            window = page.locator("dd.window")
            expect(window).to_contain_text("2026-12-16")
            expect(window).to_contain_text("EXC-PRIOR-CS")
            expect(page.locator("tr#c-EXC-PRIOR-CS")).to_contain_text("lasts until 2026-12-16")
            page.screenshot(path=str(tmp_path / "window.png"), full_page=True)
            page.get_by_role("link", name="Alerts").click()
            row = page.locator("tr", has_text=kid)
            expect(row).to_contain_text("New candidate")
            expect(row).to_contain_text("eligible until 2026-12-16")
        finally:
            browser.close()
