"""Signing in to the pages through a real OpenID provider (contract §14): the npm package
``oidc-provider`` started by the tests, the pages in process. A coordinator gets the sites of their
groups' mappings; no matching group, two roles, a tampered or replayed state, a callback in another
browser are refused on the sign-in page with a sentence, audited; unmapping ends a live session;
signing out ends the session here and sends the browser to the provider's sign-out."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urljoin, urlparse

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from sqlalchemy import select

from service import access_mappings
from service.commands import MapGroup, UnmapGroup
from store import audit
from store.models import Confirmation
from tests.fhir_samples import eligible_record
from tests.inprocess import make_runtime, make_tokens, post_record, run_pending
from tests.web.conftest import DAY
from tests.oidc_provider import Account, OidcProvider, oidc_provider  # noqa: F401 - the fixture
from web.app import create_app

BASE = "http://127.0.0.1"
NURSE = Account("nurse-1", "Nadia Nurse", "nadia@example.org", ["necker-coordinators", "staff"])
DOCTOR = Account("doctor-1", "Paul Doctor", "paul@example.org", ["necker-coordinators", "necker-investigators"])
VISITOR = Account("visitor-1", "Vera Visitor", "vera@example.org", ["staff"])
SIGNER = Account("investigator-1", "Ines Investigator", "ines@example.org", ["site-a-investigators"])


@pytest.fixture()
def rt(tmp_path, oidc_provider: OidcProvider):
    oidc_provider.write_accounts([NURSE, DOCTOR, VISITOR, SIGNER])
    (tmp_path / "home").mkdir()
    runtime = make_runtime(tmp_path / "home", ui_secret="test-secret", base_url=BASE,
                           oidc_issuer=oidc_provider.issuer, oidc_client_id=oidc_provider.client_id,
                           oidc_client_secret=oidc_provider.client_secret)
    for group, role in (("necker-coordinators", "coordinator"), ("necker-investigators", "investigator")):
        access_mappings.map_group(MapGroup(group, role, ("necker",), "test"), runtime.uow(), clock=runtime.clock)
    access_mappings.map_group(MapGroup("site-a-investigators", "investigator", ("site-a",), "test"), runtime.uow(),
                              clock=runtime.clock)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def pages(rt):
    with TestClient(create_app(rt), base_url=BASE, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def _form_action(page: httpx.Response) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert match, page.text
    return urljoin(str(page.url), unescape(match.group(1)))


def _until_back(at_provider: httpx.Client, response: httpx.Response) -> httpx.Response:
    while response.is_redirect:
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(f"{BASE}/ui/"):
            return response
        response = at_provider.get(location)
    return response


def to_provider_and_back(pages: TestClient, account: Account, started=None) -> str:
    """Start at /ui/oidc/login (or ``started``, a redirect to the provider), sign in on the provider's
    own forms; the callback URL it sends us to."""
    started = started or pages.get("/ui/oidc/login")
    assert started.status_code == 303, started.text
    with httpx.Client(timeout=30) as at_provider:
        page = _until_back(at_provider, at_provider.get(started.headers["location"]))
        page = _until_back(at_provider, at_provider.post(_form_action(page), data={
            "prompt": "login", "login": account.sub, "password": "any"}))
        if not page.is_redirect:
            page = _until_back(at_provider, at_provider.post(_form_action(page), data={"prompt": "consent"}))
    return page.headers["location"]


def callback(pages: TestClient, location: str):
    parts = urlparse(location)
    return pages.get(f"{parts.path}?{parts.query}")


def sign_in(pages: TestClient, account: Account):
    return callback(pages, to_provider_and_back(pages, account))


def audited(rt) -> list[tuple[str, str, str | None]]:
    with rt.uow() as uow:
        return [(e.actor, e.action, e.target) for e in reversed(audit.latest(uow.session))]


def test_a_coordinator_signs_in_with_the_sites_of_their_groups(rt, pages):
    login = pages.get("/ui/login")
    assert "Sign in with the hospital account" in login.text and 'name="token"' not in login.text
    done = sign_in(pages, NURSE)
    assert done.status_code == 200 and 'url=/ui"' in done.text
    home = pages.get("/ui")
    assert home.status_code == 200
    assert ("Nadia Nurse (nurse-1 at " + rt.settings.oidc_issuer + ")", "sign-in", "oidc role coordinator") in \
        audited(rt)


def test_no_matching_group_or_two_roles_are_refused_with_a_sentence(rt, pages):
    visitor = sign_in(pages, VISITOR)
    assert visitor.status_code == 401 and "in no group that has access" in visitor.text
    doctor = sign_in(pages, DOCTOR)
    assert doctor.status_code == 401 and "more than one role" in doctor.text
    assert pages.get("/ui").status_code in (303, 307, 401)
    failures = [a for a in audited(rt) if a[1] == "sign-in-failed"]
    assert [f[2].split(";")[0] for f in failures] == ["oidc no-role", "oidc no-role"]
    assert all("Vera" not in f[0] and "Paul" not in f[0] for f in failures)


def test_a_tampered_state_a_replayed_callback_and_another_browser_are_refused(rt, pages):
    location = to_provider_and_back(pages, NURSE)
    tampered = callback(pages, re.sub(r"state=[^&]+", "state=forged", location))
    assert tampered.status_code == 401 and "unknown or was used already" in tampered.text
    location = to_provider_and_back(pages, NURSE)
    assert callback(pages, location).status_code == 200
    replayed = callback(pages, location)
    assert replayed.status_code == 401 and "unknown or was used already" in replayed.text
    location = to_provider_and_back(pages, NURSE)
    pages.cookies.delete("myocit_oidc")
    elsewhere = callback(pages, location)
    assert elsewhere.status_code == 401 and "another browser" in elsewhere.text


def test_unmapping_ends_the_sessions_the_mapping_granted(rt, pages):
    assert sign_in(pages, NURSE).status_code == 200
    assert pages.get("/ui").status_code == 200
    access_mappings.unmap_group(UnmapGroup(1, "test"), rt.uow(), clock=rt.clock)
    assert pages.get("/ui").status_code != 200


def test_sign_out_ends_the_session_and_goes_to_the_providers_sign_out(rt, pages, oidc_provider):
    assert sign_in(pages, NURSE).status_code == 200
    home = pages.get("/ui")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
    out = pages.post("/ui/logout", data={"csrf": csrf})
    assert out.status_code == 200
    sent_to = urlparse(unescape(re.search(r'url=([^"]+)"', out.text).group(1)))
    query = parse_qs(sent_to.query)
    assert f"{sent_to.scheme}://{sent_to.netloc}".startswith(oidc_provider.issuer)
    assert query["post_logout_redirect_uri"] == [f"{BASE}/ui/login"] and query["id_token_hint"]
    assert pages.get("/ui").status_code != 200


def _eligible_child(rt, pages) -> None:
    tokens = make_tokens(rt)
    assert post_record(pages, tokens, eligible_record("kid-s", DAY)).status_code == 202
    run_pending(rt)


def _sign_form(pages: TestClient) -> dict:
    page = pages.get("/ui/patients/kid-s").text
    assert 'action="/ui/oidc/sign"' in page and 'name="reauth"' not in page
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1), "patient_id": "kid-s",
            "as_of": DAY.isoformat(), "meaning": "I confirm."}


def test_a_signature_reauthenticates_the_signer_at_the_provider(rt, pages):
    _eligible_child(rt, pages)
    assert sign_in(pages, SIGNER).status_code == 200
    begun = pages.post("/ui/oidc/sign", data=_sign_form(pages))
    asked = parse_qs(urlparse(begun.headers["location"]).query)
    assert asked["prompt"] == ["login"] and asked["max_age"] == ["0"]
    signed = callback(pages, to_provider_and_back(pages, SIGNER, begun))
    assert signed.status_code == 200 and "done=confirmed" in signed.text
    listed = pages.get("/ui/patients/kid-s").text
    assert "Ines Investigator (investigator-1 at " in listed and "re-authenticated by" in listed
    with rt.uow() as uow:
        row = uow.session.scalars(select(Confirmation)).one()
        assert (row.token_pk, row.signer_issuer, row.signer_subject) == (None, rt.settings.oidc_issuer,
                                                                         "investigator-1")
        assert row.auth_time is not None


def test_a_signature_whose_reauthentication_is_older_than_its_start_is_refused(rt, pages, monkeypatch):
    _eligible_child(rt, pages)
    assert sign_in(pages, SIGNER).status_code == 200
    form = _sign_form(pages)
    # The signing begins, by this service's clock, ten minutes after the provider's sign-in.
    real_now = rt.clock.now
    monkeypatch.setattr(rt.clock, "now", lambda: real_now() + timedelta(minutes=10))
    begun = pages.post("/ui/oidc/sign", data=form)
    monkeypatch.undo()
    refused = callback(pages, to_provider_and_back(pages, SIGNER, begun))
    assert refused.status_code == 401 and "not asked for your credentials again" in refused.text
    with rt.uow() as uow:
        assert uow.session.scalars(select(Confirmation)).all() == []


def test_a_token_signed_by_a_new_key_is_checked_after_the_keys_are_fetched_again(rt, pages, oidc_provider):
    assert sign_in(pages, NURSE).status_code == 200
    kid = oidc_provider.add_signing_key(replace=True)
    assert oidc_provider.signing_kids() == [kid]
    pages.cookies.clear()
    assert sign_in(pages, NURSE).status_code == 200 and pages.get("/ui").status_code == 200


def test_what_a_person_does_is_audited_under_their_name_sub_and_issuer(rt, pages):
    assert sign_in(pages, NURSE).status_code == 200
    home = pages.get("/ui")
    assert home.status_code == 200
    person = f"Nadia Nurse (nurse-1 at {rt.settings.oidc_issuer})"
    assert any(actor == person and action.startswith("view") for actor, action, _ in audited(rt))
