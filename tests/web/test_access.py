"""Every route (API and pages) × role × a patient of the caller's own site or of another site.

Cells: a status code; "login" (sent to the sign-in page); "200+" / "200-" for lists that must show /
must not show the patient. Lab tokens only post, and a site-A lab's FHIR data for a site-B child is
refused (403; its HL7 result names the child by PID-3, matched within the lab's own sites only, so it is
kept for a child not registered there, 202); investigators post attestations and consent decisions
only (contract §13, not a row here: the rows post results); a coordinator or investigator of site A
sees a site-B patient nowhere (404, or absent from lists); admin sees every site, but judgements belong to investigators alone.
"""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from store.models import Alert, Patient
from tests.fhir_samples import bundle, quantity
from tests.inprocess import bearer, make_tokens
from tests.web.conftest import Browser, cmv_flip, create_app, make_runtime

OWN, OTHER = "kid-a", "kid-b"
_msg = itertools.count(1)


def _hl7(pid: str) -> str:
    return "\r".join([
        f"MSH|^~\\&|LAB|HOSP|MYOCIT|APHP|20261130101500||ORU^R01^ORU_R01|ACC{next(_msg)}|P|2.5.1",
        f"PID|1||{pid}^^^HOSP^MR",
        "OBR|1||FILL-1|718-7^Hb^LN|||20261130090000",
        "OBX|1|NM|718-7^Hemoglobin^LN||12.0|g/dL|||||F|||20261130090000",
    ])


def _api(client, role, method, path, pid):
    headers = bearer(WORLD["tokens"][role])
    if path == "/fhir":
        return client.post(path, json=bundle([quantity(pid, "718-7", 12.0, "g/dL", "2026-11-30")]), headers=headers)
    if path == "/fhir/Observation":
        return client.post(path, json=quantity(pid, "718-7", 12.0, "g/dL", "2026-11-30"), headers=headers)
    if path == "/hl7v2":
        return client.post(path, content=_hl7(pid), headers={**headers, "Content-Type": "x-application/hl7-v2+er7"})
    return client.request(method, path.format(patient=pid, alert=WORLD["alerts"][pid]), headers=headers)


def _ui(browser, method, path, pid):
    path = path.format(patient=pid, alert=WORLD["alerts"][pid])
    if method == "GET":
        return browser.get(path)
    form = {"/attest": {"criterion": "EXC-OTHER-TRIAL", "verdict": "pass", "justification": "checked"},
            "/consent": {"decision": "inactive"}}
    return browser.post(path, next((v for k, v in form.items() if path.endswith(k)), {}))


#  route                                    lab               coordinator       investigator      admin
TABLE = {
    ("POST", "/fhir"):                      [(202, 403),      (403, 403),       (403, 403),       (202, 202)],
    ("POST", "/fhir/Observation"):          [(202, 403),      (403, 403),       (403, 403),       (202, 202)],
    ("POST", "/hl7v2"):                     [(202, 202),      (403, 403),       (403, 403),       (202, 202)],
    ("GET", "/patients/{patient}/eligibility"): [(403, 403),  (200, 404),       (200, 404),       (200, 200)],
    ("GET", "/alerts"):                     [(403, 403),      ("200+", "200-"), (403, 403),       ("200+", "200+")],
    ("POST", "/alerts/{alert}/ack"):        [(403, 403),      (200, 404),       (403, 403),       (200, 200)],
    ("GET", "/status"):                     [(403, 403),      (403, 403),       (403, 403),       (200, 200)],
    ("GET", "/ui"):                         [("login",) * 2,  ("200+", "200-"), ("200+", "200-"), ("200+", "200+")],
    ("GET", "/ui/patients/{patient}"):      [("login",) * 2,  (200, 404),       (200, 404),       (200, 200)],
    ("POST", "/ui/patients/{patient}/attest"): [("login",) * 2, (403, 403),     (303, 404),       (403, 403)],
    ("POST", "/ui/patients/{patient}/consent"): [("login",) * 2, (303, 404),    (303, 404),       (303, 303)],
    ("GET", "/ui/alerts"):                  [("login",) * 2,  ("200+", "200-"), (403, 403),       ("200+", "200+")],
    ("POST", "/ui/alerts/{alert}/ack"):     [("login",) * 2,  (303, 404),       (403, 403),       (303, 303)],
    ("GET", "/ui/audit"):                   [("login",) * 2,  (403, 403),       (403, 403),       (200, 200)],
}
ROLE_ORDER = ("lab", "coordinator", "investigator", "admin")
CASES = [(method, path, role, side, TABLE[(method, path)][ROLE_ORDER.index(role)][side == "other"])
         for (method, path) in TABLE for role in ROLE_ORDER for side in ("own", "other")]
WORLD: dict = {}


@pytest.fixture(scope="module", autouse=True)
def world(tmp_path_factory):
    """Two children, one per site, each with one alert; a client per role (built once: tests stay fast)."""
    rt = make_runtime(tmp_path_factory.mktemp("access"))
    app = create_app(rt)
    tokens = make_tokens(rt)
    api = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    cmv_flip(api, tokens, rt, OWN, "site-a")
    cmv_flip(api, tokens, rt, OTHER, "site-b")
    with rt.uow() as uow:
        alerts = dict(uow.session.execute(select(Patient.id, Alert.pk).join(Alert, Alert.patient_pk == Patient.pk)).all())
    WORLD.update(rt=rt, api=api, tokens=tokens, alerts=alerts,
                 browsers={role: Browser(app, tokens[role]) for role in ROLE_ORDER})
    yield
    WORLD.clear()
    rt.dispose()


@pytest.mark.parametrize(("method", "path", "role", "side", "expected"), CASES,
                         ids=[f"{m} {p} {r} {s}" for m, p, r, s, _ in CASES])
def test_route_role_and_site(method, path, role, side, expected):
    pid = OWN if side == "own" else OTHER
    if path.startswith("/ui"):
        response = _ui(WORLD["browsers"][role], method, path, pid)
    else:
        response = _api(WORLD["api"], role, method, path, pid)
    if expected == "login":
        assert (response.status_code, response.headers.get("location")) == (303, "/ui/login")
    elif isinstance(expected, str):
        assert response.status_code == 200, response.text[:300]
        assert (pid in response.text) is expected.endswith("+")
    else:
        assert response.status_code == expected, response.text[:300]
        if expected == 303:
            assert response.headers["location"] != "/ui/login"


def test_a_lab_token_cannot_sign_in_to_the_pages():
    refused = WORLD["browsers"]["lab"].signed_in
    assert refused.status_code == 403
    assert "cannot sign in" in refused.text
    assert "myocit_session" not in refused.headers.get("set-cookie", "")


def test_a_form_without_the_session_csrf_token_is_refused():
    browser = WORLD["browsers"]["coordinator"]
    response = browser.client.post(f"/ui/patients/{OWN}/consent", data={"decision": "inactive", "csrf": "forged"})
    assert response.status_code == 403
