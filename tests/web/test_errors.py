"""One handler answers what a use case refuses: an OperationOutcome on the API, the error page on
/ui. The table is the mapping itself; the routes below check that each one lets the error rise to it."""

from __future__ import annotations

import pytest

from domain.identity import Refusal, Refused
from service.errors import Conflict, Invalid, NotAuthenticated, NotFound
from tests.fhir_samples import eligible_record
from tests.inprocess import bearer, post_record
from tests.web.conftest import Browser
from web.errors import NOT_YOURS, ended, page_error_of, sentence
from web.outcomes import outcome


@pytest.mark.parametrize(("error", "words", "status", "message"), [
    (NotFound("no patient p-9 for this site"), "The form could not be recorded", 404,
     "No patient p-9 for this site."),
    (NotFound("No patient p-9 for this site."), "Not signed", 404, "No patient p-9 for this site."),
    (Invalid("Choose a verdict for at least one criterion."), "The form could not be recorded", 400,
     "The form could not be recorded: Choose a verdict for at least one criterion."),
    (Invalid("a reason is required when the outcome is declined"), "The form could not be recorded", 400,
     "The form could not be recorded: a reason is required when the outcome is declined."),
    (Invalid("the meaning is at most 500 characters"), "Not signed", 400,
     "Not signed: the meaning is at most 500 characters."),
    (Conflict("eligibility cannot be signed: the child is not eligible"), "Not signed", 409,
     "Not signed: eligibility cannot be signed: the child is not eligible."),
    (NotAuthenticated("the re-entered token is not the signer's own"), "Not signed", 403, NOT_YOURS),
    (Refused(Refusal.OTHER_SITE), "The form could not be recorded", 403,
     "The form could not be recorded: the patient belongs to a site this sender may not send for."),
])
def test_a_service_error_becomes_the_page_error_of_its_kind(error, words, status, message):
    shown = page_error_of(error, words)
    assert (shown.status, shown.message) == (status, message)


@pytest.mark.parametrize(("error", "expected"), [
    (NotFound("no alert 7 for this site"), outcome(404, "not-found", "no alert 7 for this site")),
    (Invalid("target: an email address is expected"), outcome(400, "invalid", "target: an email address is expected")),
    (Conflict("delivery 3 is sent; only a failed one is retried"),
     outcome(409, "conflict", "delivery 3 is sent; only a failed one is retried")),
    (NotAuthenticated("the re-entered token is not the signer's own: nothing was signed"),
     outcome(401, "login", "the re-entered token is not the signer's own: nothing was signed")),
    (Refused(Refusal.AMBIGUOUS), outcome(422, "processing", Refusal.AMBIGUOUS.explanation)),
])
def test_a_service_error_becomes_the_operation_outcome_of_its_kind(error, expected):
    from web.errors import _api_answer

    answer = _api_answer(error)
    assert (answer.status_code, answer.body, answer.media_type) == (expected.status_code, expected.body,
                                                                  expected.media_type)


def test_sentences_get_their_capital_and_full_stop_once():
    assert sentence("no alert 7 for this site") == "No alert 7 for this site."
    assert sentence("No alert 7 for this site.") == "No alert 7 for this site."
    assert ended("outcome must be one of approached") == "outcome must be one of approached."
    assert ended("Give one verdict.") == "Give one verdict."


def test_the_api_and_the_pages_answer_the_same_refusal_each_in_its_own_terms(app, api, tokens):
    coordinator = bearer(tokens["coordinator"])
    assert api.get("/patients/nobody/eligibility", headers=coordinator).json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no patient nobody for this site"}]}
    assert api.post("/alerts/99/ack", headers=coordinator).status_code == 404
    page = Browser(app, tokens["coordinator"]).get("/ui/patients/nobody")
    assert page.status_code == 404 and "No patient nobody for this site." in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert Browser(app, tokens["coordinator"]).get("/ui/alerts/99/known").status_code == 404


def test_a_form_the_service_refuses_shows_why_on_the_page(app, api, tokens, rt):
    assert post_record(api, tokens, eligible_record("p-form", rt.clock.today())).status_code == 202
    browser = Browser(app, tokens["coordinator"])
    answer = browser.post("/ui/patients/p-form/outcome", {"outcome": "declined", "reason": ""})
    assert answer.status_code == 400
    assert "The form could not be recorded: a reason is required when the outcome is declined." in answer.text
    signer = Browser(app, tokens["investigator"])
    too_long = signer.post("/ui/patients/p-form/confirmation", {
        "as_of": rt.clock.today().isoformat(), "meaning": "x" * 5000, "reauth": tokens["investigator"]})
    assert too_long.status_code == 400 and "Not signed: the meaning is at most" in too_long.text
