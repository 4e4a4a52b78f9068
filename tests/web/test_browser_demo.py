"""A newcomer's first minute, in a real headless Chromium: `myocit demo` on a fresh home, the API started,
each site's coordinator signing in with a token the demo printed and seeing only the children of their
site, with screenings; times on the pages shown at the sites' time zone with the zone named."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from testkit import cli as in_process
from tests.processes import free_port, stop_group
from tests.web.conftest import DAY
from tests.web.test_browser import ARGS, _sign_in, _wait, chromium_path  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo")
    own = {"MYOCIT_HOME": str(home / "data"), "MYOCIT_TODAY": DAY.isoformat()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | own
    loaded = in_process.myocit("demo", env=own, cwd=home)
    assert loaded.returncode == 0, loaded.stderr
    tokens = {(role, site): token for role, site, token in re.findall(r"^  (\w+) +([\w-]+) +(myo_\S+)$",
                                                                      loaded.stdout, re.M)}
    port = free_port()
    log = home / "api.log"
    command = [sys.executable, "-m", "myocit.cli", "api", f"--port={port}"]
    process = subprocess.Popen(command, env=env, cwd=home, start_new_session=True,
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/livez", timeout=1).status_code == 200, 60, log)
        yield base, tokens
    finally:
        stop_group(process)


def test_each_sites_coordinator_sees_its_own_demo_children_screened_with_times_zoned(
        demo_service, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, tokens = demo_service
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            for site, own, other in (("necker", "necker", "rdebre"), ("robert-debre", "rdebre", "necker")):
                page = _sign_in(browser, base, tokens[("coordinator", site)])
                for n in (1, 2, 3):
                    expect(page.get_by_role("link", name=f"{own}-0{n}")).to_be_visible()
                expect(page.get_by_text(f"{other}-01")).to_have_count(0)
                page.screenshot(path=str(tmp_path / f"worklist-{site}.png"), full_page=True)
                page.goto(f"{base}/ui/alerts")
                expect(page.get_by_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T")).first).to_be_visible()
                page.screenshot(path=str(tmp_path / f"alerts-{site}.png"), full_page=True)
        finally:
            browser.close()
