"""Signing in through the hospital provider's own login form in a real headless Chromium (contract
§14): `myocit run` configured with the test OpenID provider, a coordinator's group mapped with
`myocit access map`; the browser clicks the provider's button, signs in and consents at the provider,
lands on the worklist, and signs out at both ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from testkit import cli as in_process
from tests.oidc_provider import Account, running_provider
from tests.processes import free_port, stop_group
from tests.web.test_browser import ARGS, CHROMIUM, _wait

pytestmark = pytest.mark.browser

NURSE = Account("nurse-1", "Nadia Nurse", "nadia@example.org", ["site-a-coordinators"])


@pytest.fixture()
def chromium_path() -> str:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium package; .ci/browser does)"
        if os.environ.get("MYOCIT_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture()
def service(tmp_path):
    """`myocit run` signing people in through a running test provider."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_provider(tmp_path, redirect_uris=[f"{base}/ui/oidc/callback"],
                          post_logout_redirect_uris=[f"{base}/ui/login"], accounts=[NURSE]) as provider:
        own = {"MYOCIT_HOME": str(tmp_path / "var"), "MYOCIT_BASE_URL": base,
               "MYOCIT_OIDC_ISSUER": provider.issuer, "MYOCIT_OIDC_CLIENT_ID": provider.client_id,
               "MYOCIT_OIDC_CLIENT_SECRET": provider.client_secret}
        env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | own
        cli = [sys.executable, "-m", "myocit.cli"]
        mapped = in_process.myocit("access", "map", "site-a-coordinators", "--role", "coordinator",
                                   "--site", "site-a", env=own, cwd=tmp_path)
        assert mapped.returncode == 0, mapped.stderr
        log = tmp_path / "run.log"
        process = subprocess.Popen(cli + ["run", f"--port={port}", f"--mllp-port={free_port()}"], env=env,
                                   cwd=tmp_path, start_new_session=True, stdout=open(log, "wb"),
                                   stderr=subprocess.STDOUT)
        try:
            _wait(lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200, 60, log)
            yield base, provider
        finally:
            stop_group(process, timeout=20)


def test_a_coordinator_signs_in_on_the_providers_own_form_and_out_at_both_ends(service, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, provider = service
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(f"{base}/ui/login")
            expect(page.get_by_label("Token")).to_have_count(0)
            page.get_by_role("link", name="Sign in with the hospital account").click()
            page.wait_for_url(f"{provider.issuer}/**")
            page.locator('input[name="login"]').fill(NURSE.sub)
            page.locator('input[name="password"]').fill("any")
            page.locator('button[type="submit"]').click()
            if page.url.startswith(provider.issuer):
                page.locator('button[type="submit"]').click()  # the provider's consent
            page.wait_for_url(f"{base}/ui")
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{provider.issuer}/**")
            page.locator('button[type="submit"]').first.click()  # the provider asks to confirm signing out
            page.wait_for_url(f"{base}/ui/login**")
            page.goto(f"{base}/ui")
            page.wait_for_url(f"{base}/ui/login**")
        finally:
            browser.close()
