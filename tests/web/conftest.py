"""The pages in process over SQLite, signed in as each role; tasks run as plain functions."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from tests.fhir_samples import DETECTED, NOT_DETECTED, bundle, coded, eligible_record
from tests.inprocess import bearer, key_of, make_tokens, post_record, run_pending
from tests.inprocess import make_runtime as make_inprocess_runtime
from web.app import create_app
from bootstrap import Runtime

DAY = date(2026, 12, 1)
def make_runtime(home) -> Runtime:
    return make_inprocess_runtime(home, ui_secret="test-secret")


class Browser:
    """A client signed in to the pages, with the session's CSRF token at hand."""

    def __init__(self, app, token: str) -> None:
        self.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        form = self.client.get("/ui/login")
        self.signed_in = self.client.post("/ui/login", data={"token": token, "csrf": csrf_of(form.text)})
        page = self.client.get("/ui")
        self.csrf = csrf_of(page.text) if page.status_code == 200 else "none"

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else ""


def cmv_flip(client, tokens, rt, pid: str, site: str) -> None:
    """A child whose CMV PCR was positive, then negative: ineligible, then eligible, one alert. Posted
    by the lab and the investigator of ``site`` (``tokens`` as ``make_tokens`` returns them)."""
    record = eligible_record(pid, DAY, site=site, with_cmv=False) + [coded(pid, "4996-5", DETECTED, "2026-11-25")]
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)
    later = [coded(pid, "4996-5", NOT_DETECTED, "2026-11-30")]
    lab = bearer(tokens[key_of("lab", site)])
    assert client.post("/fhir", json=bundle(later), headers=lab).status_code == 202
    run_pending(rt)


@pytest.fixture()
def rt(tmp_path):
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def app(rt):
    return create_app(rt)


@pytest.fixture()
def tokens(rt):
    return make_tokens(rt)


@pytest.fixture()
def api(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
