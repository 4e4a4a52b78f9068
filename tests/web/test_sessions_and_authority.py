"""Contract §13 on the pages: sessions end on the server, failed sign-ins are audited and slowed,
and the pages' forms go through the same identity and authority checks as the API."""

from __future__ import annotations

from sqlalchemy import func, select

from store.models import AuditEntry, Fact, Message
from tests.fhir_samples import patient
from tests.inprocess import bearer, run_pending
from tests.web.conftest import Browser, csrf_of
from web.session import SignInThrottle


def _register(api, tokens, rt, pid: str, site: str) -> None:
    lab = "lab" if site == "site-a" else "lab-site-b"
    assert api.post("/fhir/Patient", json=patient(pid, site=site), headers=bearer(tokens[lab])).status_code == 202
    run_pending(rt)


def _stored(rt) -> tuple[int, int]:
    with rt.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(Message)),
                uow.session.scalar(select(func.count()).select_from(Fact)))


def test_signing_out_ends_the_session_on_the_server(app, tokens):
    browser = Browser(app, tokens["coordinator"])
    cookie = browser.client.cookies.get("myocit_session")
    assert cookie and browser.get("/ui").status_code == 200
    assert browser.post("/ui/logout").status_code == 303
    # The same cookie, replayed (copied before signing out), no longer opens anything.
    replay = Browser.__new__(Browser)
    from fastapi.testclient import TestClient

    replay.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    replay.client.cookies.set("myocit_session", cookie, path="/ui")
    answer = replay.client.get("/ui")
    assert (answer.status_code, answer.headers.get("location")) == (303, "/ui/login")


def test_revoking_a_token_ends_its_sessions(app, tokens, rt):
    from store.models import ApiToken
    from store.tokens import token_hash

    browser = Browser(app, tokens["coordinator"])
    assert browser.get("/ui").status_code == 200
    with rt.uow() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(tokens["coordinator"])))
        row.revoked_at = rt.clock.now()
        uow.commit()
    assert browser.get("/ui").status_code == 303


def test_a_failed_sign_in_is_audited_without_the_token_and_slowed(app, rt, monkeypatch):
    from web import pages

    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(pages.asyncio, "sleep", no_wait)
    browser = Browser(app, "myo_not-a-real-token-but-close")
    assert browser.signed_in.status_code == 401
    form = browser.client.get("/ui/login")
    browser.client.post("/ui/login", data={"token": "myo_another-guess", "csrf": csrf_of(form.text)})
    assert waits == [0.5, 1.0]
    with rt.uow() as uow:
        entries = uow.session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
                                      .where(AuditEntry.action == "sign-in-failed")).all()
    assert len(entries) == 2 and all(actor == "anonymous" for actor, _, _ in entries)
    assert all("myo_" not in (target or "") for _, _, target in entries)


def test_the_sign_in_delay_doubles_per_failure_up_to_a_ceiling_and_forgets():
    throttle = SignInThrottle(base=0.5, ceiling=8.0, window=900)
    delays = [throttle.failed("10.0.0.1", now=t) for t in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert throttle.failed("10.0.0.2", now=7) == 0.5  # another address is not slowed
    assert throttle.failures("10.0.0.1", now=1000) == 0  # the window has passed
    assert throttle.failed("10.0.0.1", now=1000) == 0.5


def test_an_investigator_attests_only_for_a_child_of_their_sites(app, api, tokens, rt):
    _register(api, tokens, rt, "kid-b", "site-b")
    before = _stored(rt)
    browser = Browser(app, tokens["investigator"])
    answer = browser.post("/ui/patients/kid-b/attest", {"criterion": "EXC-CANCER-HX", "verdict": "fail",
                                                       "justification": "history of leukaemia"})
    assert answer.status_code == 404
    assert _stored(rt) == before


def test_an_admin_cannot_attest_on_the_pages(app, api, tokens, rt):
    _register(api, tokens, rt, "kid-a", "site-a")
    before = _stored(rt)
    browser = Browser(app, tokens["admin"])
    answer = browser.post("/ui/patients/kid-a/attest", {"criterion": "EXC-CANCER-HX", "verdict": "fail",
                                                       "justification": "history of leukaemia"})
    assert answer.status_code == 403
    assert _stored(rt) == before


def test_an_attestation_on_the_pages_is_signed_by_the_signed_in_investigator(app, api, tokens, rt):
    _register(api, tokens, rt, "kid-a", "site-a")
    browser = Browser(app, tokens["investigator"])
    answer = browser.post("/ui/patients/kid-a/attest", {"criterion": "EXC-CANCER-HX", "verdict": "pass",
                                                       "justification": "no history of cancer"})
    assert answer.status_code == 303
    with rt.uow() as uow:
        payload = uow.session.scalars(select(Fact.payload).order_by(Fact.pk.desc())).first()
    assert payload["criterion"] == "EXC-CANCER-HX" and payload["performer"] == "investigator"


def test_a_coordinator_records_consent_only_for_a_child_of_their_sites(app, api, tokens, rt):
    _register(api, tokens, rt, "kid-a", "site-a")
    _register(api, tokens, rt, "kid-b", "site-b")
    browser = Browser(app, tokens["coordinator"])
    before = _stored(rt)
    assert browser.post("/ui/patients/kid-b/consent", {"decision": "inactive"}).status_code == 404
    assert _stored(rt) == before
    assert browser.post("/ui/patients/kid-a/consent", {"decision": "inactive"}).status_code == 303
    assert _stored(rt)[0] == before[0] + 1
