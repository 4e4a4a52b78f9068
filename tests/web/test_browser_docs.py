"""``/docs`` in a real headless Chromium (Debian's package, driven by Playwright) against `myocit api`:
the bundled Swagger UI renders the API's OpenAPI document and lists its operations."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, stop_group
from tests.web.test_browser import ARGS, chromium_path  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    home = tmp_path_factory.mktemp("docs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | {"MYOCIT_HOME": str(home / "var")}
    port = free_port()
    log = home / "api.log"
    process = subprocess.Popen([sys.executable, "-m", "myocit.cli", "api", f"--port={port}"], env=env, cwd=ROOT,
                               start_new_session=True, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        stop_group(process)


def test_docs_render_and_list_the_operations(api, chromium_path):  # noqa: F811 - the fixture
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{api}/docs")
            paths = page.locator(".opblock-summary-path")
            expect(paths.first).to_be_visible(timeout=30_000)
            listed = set(paths.all_inner_texts())
            listed = {text.replace("\u200b", "").strip() for text in listed}
            assert {"/fhir", "/fhir/{resource_type}", "/hl7v2", "/patients/{patient_id}/eligibility", "/alerts",
                    "/metrics"} <= listed, listed
            assert page.get_by_text("Unable to render this definition").count() == 0
            # An operation opens on what it answers: the FHIR Bundle's refusals are listed.
            page.locator("#operations-ingest-post_bundle_fhir_post .opblock-summary").click()
            responses = page.locator("#operations-ingest-post_bundle_fhir_post .responses-table .response-col_status")
            expect(responses.first).to_be_visible(timeout=10_000)
            codes = {text.strip() for text in responses.all_inner_texts()}
            assert {"202", "400", "401", "403", "409", "413", "422", "503"} <= codes, codes
        finally:
            browser.close()
