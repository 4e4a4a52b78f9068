"""What the service says to a person on the pages, in French (contract §18): the error page after a
form the service refused, the sign-in page with each problem of the hospital's sign-in, and the
sentences of the service and the domain behind them. The API and the command line keep English.

The rendered pages are checked as tests/web/test_languages.py checks every page: no text of the
English page comes back unchanged in the French one unless it is data, and no English text of the
catalog is left."""

from __future__ import annotations

import ast
import html
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import language
from domain.access import GroupMapping, grant, reauthentication_problem
from domain.confirmation import refusal
from domain.identity import Refusal, Refused
from service import oidc
from service.errors import Conflict, Invalid, NotFound
from service.sessions import role_refusal
from tests.fhir_samples import eligible_record
from tests.inprocess import bearer, post_record, run_pending
from tests.web.conftest import DAY, Browser, cmv_flip
from tests.web.test_languages import english_words, interface_ids, same_in_french, texts
from web.errors import page_error_of
from web.service_sentences import said_at_sign_in, said_by_service

ROOT = Path(__file__).resolve().parents[2]
PAGE_USE_CASES = ("alerts", "confirmations", "judgements", "pages", "patients", "replay", "screening_log",
                  "screenings")
"""The service modules the pages call (web/pages.py, trial_pages.py, protocol_pages.py)."""
NESTED = {"eligibility cannot be signed: kid-one"}
"""Sentences whose value is another sentence (domain/confirmation.py::refusal): checked on their own below."""
SAMPLE = "kid-one"
"""A value placed in a sentence's placeholders (data: an id)."""


SAME_IN_BOTH = {"patient", "patients", "site", "sites", "verdict", "justification", "attestation", "attestations",
                "Patient", "managingOrganization", "Organization", "FHIR", "HL7", "myocit", "move", "identifier-system",
                "urn", "criterion", "pages", "minutes", "Active", "service", "screening-log", "funnel", "signature", "session"}
"""Words French writes as English does, and what a sentence names as it is (a command, a FHIR element)."""


def _words(text: str) -> list[str]:
    alike = same_in_french() | SAME_IN_BOTH
    return [w for w in re.findall(r"[\w'’-]+", english_words(text)) if w not in alike and re.search(r"[A-Za-z]{3,}", w)]


def english_left(french: str, english: str) -> str:
    """The words of ``english`` still in ``french`` (empty when none), data and words of both languages
    aside; and any English text of the catalog found in it."""
    words = set(_words(english))
    left = [w for w in _words(french) if w in words]
    left += [text for text in interface_ids() if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", french)]
    return " | ".join(left)


def raised_sentences(module: str) -> list[str]:
    """The sentences ``service/<module>.py`` raises as NotFound, Invalid or Conflict, each value a sample."""
    tree = ast.parse((ROOT / "service" / f"{module}.py").read_text())
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", None) in ("NotFound", "Invalid", "Conflict")):
            continue
        argument = node.exc.args[0] if node.exc.args else None
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.append(argument.value)
        elif isinstance(argument, ast.JoinedStr):
            found.append("".join(part.value if isinstance(part, ast.Constant) else SAMPLE
                                 for part in argument.values))
    return found


def _french(function, *args):
    token = language.using("fr")
    try:
        return function(*args)
    finally:
        language.restore(token)


@pytest.mark.parametrize("module", PAGE_USE_CASES)
def test_every_sentence_a_page_use_case_raises_is_written_in_french(module):
    sentences = raised_sentences(module)
    assert sentences, module
    for english in sentences:
        french = _french(said_by_service, english)
        if english in NESTED:
            continue
        assert french != english and not english_left(french, english), (english, french)
        assert SAMPLE in french or SAMPLE not in english, (english, french)


def test_why_a_signature_is_refused_is_written_in_french_with_its_dates_and_status():
    why = [refusal(None, None, False, DAY), refusal("eligible", DAY, True, DAY),
           refusal("eligible", date(2026, 11, 30), False, DAY), refusal("waiting", DAY, False, DAY)]
    sentences = [f"eligibility cannot be signed: {reason}" for reason in why]
    written = [_french(said_by_service, english) for english in sentences]
    for english, french in zip(sentences, written):
        assert french.startswith("l'éligibilité ne peut pas être signée : "), french
        assert not english_left(french, english), french
    assert written[2].endswith("est au 30 novembre 2026, et non au 1 décembre 2026")
    assert "« en attente »" in written[3]


def test_each_refusal_of_the_identity_rules_reads_in_french_on_the_error_page():
    for refused in Refusal:
        page = _french(page_error_of, Refused(refused))
        assert page.message.startswith("Le formulaire n'a pas pu être enregistré : "), page.message
        assert not english_left(page.message, refused.explanation), page.message


@pytest.mark.parametrize("error, expected", [
    (NotFound("no alert 7 for this site"), "Aucune alerte 7 pour ce site."),
    (Invalid("Choose a verdict for at least one criterion."),
     "Le formulaire n'a pas pu être enregistré : Choisissez un verdict pour au moins un critère."),
    (Invalid("a reason is required when the outcome is declined"),
     "Le formulaire n'a pas pu être enregistré : un motif est obligatoire lorsque l'issue est « refus »."),
    (Conflict("eligibility cannot be signed: the latest stored screening is ineligible, not eligible"),
     "Le formulaire n'a pas pu être enregistré : l'éligibilité ne peut pas être signée : la dernière présélection "
     "enregistrée est « non éligible », et non « éligible »."),
])
def test_the_error_page_says_the_services_sentence_in_french_and_in_english(error, expected):
    assert _french(page_error_of, error).message == expected
    assert page_error_of(error).message.rstrip(".").lower().endswith(str(error).rstrip(".").lower())


def test_who_may_not_sign_in_is_told_in_french():
    mappings = [GroupMapping(1, "nurses", "coordinator", frozenset({"site-a"})),
                GroupMapping(2, "doctors", "investigator", frozenset({"site-a"}))]
    sentences = [grant(["visitors"], mappings).sentence, grant(["nurses", "doctors"], mappings).sentence,
                 role_refusal("lab"), role_refusal("monitor"),
                 reauthentication_problem(("idp", "a"), ("idp", "b"), 10, 5),
                 reauthentication_problem(("idp", "a"), ("idp", "a"), None, 5),
                 reauthentication_problem(("idp", "a"), ("idp", "a"), 4, 5)]
    for english in sentences:
        assert english is not None
        french = _french(said_at_sign_in, english)
        assert french != english and not english_left(french, english), (english, french)
    assert "(coordinateur, investigateur)" in _french(said_at_sign_in, sentences[1])


def test_every_sign_in_failure_of_the_flow_is_one_sentence_of_the_catalog():
    """Each ``SignInFailed`` of service/oidc.py says a whole sentence marked for the catalog (or one
    the domain decides), never a sentence put together from parts."""
    tree = ast.parse((ROOT / "service" / "oidc.py").read_text())
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SignInFailed"]
    assert len(calls) > 10
    catalog = language.translations("fr")
    for call in calls:
        said = call.args[1]
        if isinstance(said, ast.Call) and getattr(said.func, "id", None) == "N_":
            english = said.args[0].value
            french = catalog.gettext(english)
            assert french != english and not english_left(french, english), english
        else:
            assert isinstance(said, (ast.Attribute, ast.Name, ast.Call)), ast.dump(said)


# --- the pages themselves ----------------------------------------------------------------------------


class ProviderAway:
    """A hospital sign-in service that cannot be reached."""

    def get_json(self, url, bearer=None):
        raise OSError("unreachable")

    def post_form(self, url, form, basic):
        raise OSError("unreachable")


def assert_french(english_html: str, french_html: str) -> None:
    assert '<html lang="fr">' in french_html and '<html lang="en">' in english_html
    seen_in_english = set(texts(english_html, "en"))
    left = {text for text in texts(french_html, "fr")
            if text in seen_in_english and not text.startswith("/") and english_left(text, text)}
    left |= {text for text in texts(french_html, "fr") for english in interface_ids()
             if re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", text)}
    assert not left, f"English left on the French page: {left}"


def _client(app, lang: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    client.cookies.set("myocit_language", lang, path="/ui")
    return client


@pytest.fixture()
def provider(app):
    settings = oidc.OidcSettings("https://idp.example.org/realms/hospital", "myocit", "secret", "openid",
                                 "groups", "http://testserver/ui/oidc/callback", "http://testserver/ui/login")
    app.state.oidc_provider = oidc.Provider(settings, ProviderAway())
    return app.state.oidc_provider


@pytest.mark.parametrize("path, status, french", [
    ("/ui/oidc/callback?error=access_denied", 401, "Le service de connexion de l'hôpital ne vous a pas connecté."),
    ("/ui/oidc/callback?code=abc&state=never-started", 401, "Ce lien de connexion est inconnu ou a déjà été utilisé."),
    ("/ui/oidc/login", 503, "Le service de connexion de l'hôpital est injoignable."),
])
def test_the_sign_in_page_says_each_problem_in_french(app, provider, path, status, french):
    english, page = _client(app, "en").get(path), _client(app, "fr").get(path)
    assert (english.status_code, page.status_code) == (status, status)
    assert french in html.unescape(page.text) and "Please" in english.text
    assert_french(english.text, page.text)


def test_the_page_that_moves_on_after_signing_out_is_in_the_readers_language(app):
    from web.oidc_pages import continue_to

    token = language.using("fr")
    try:
        page = continue_to("https://idp.example.org/logout").body.decode()
    finally:
        language.restore(token)
    assert '<html lang="fr">' in page and "Continuer vers myocit" in page and "Connecté" in page


@pytest.fixture()
def eligible_child(api, tokens, rt):
    assert post_record(api, tokens, eligible_record("kid-s", DAY)).status_code == 202
    run_pending(rt)


def _both(app, token: str, path: str, form: dict | None = None):
    """The same request read in English and in French (a refused form changes nothing)."""
    answers = []
    for lang in ("en", "fr"):
        browser = Browser(app, token)
        browser.client.cookies.set("myocit_language", lang, path="/ui")
        answers.append(browser.post(path, form) if form is not None else browser.get(path))
    return answers


@pytest.mark.parametrize("role, path, form, status, french", [
    ("investigator", "/ui/patients/kid-s/attest", {}, 400, "Choisissez un verdict pour au moins un critère."),
    ("investigator", "/ui/patients/kid-s/attest", {"verdict-EXC-ORAL": "pass"}, 400,
     "Donnez une justification pour EXC-ORAL"),
    ("investigator", "/ui/patients/nobody/attest", {"verdict-EXC-ORAL": "pass", "justification": "vu"}, 404,
     "Aucun patient nobody pour ce site."),
    ("coordinator", "/ui/patients/kid-s/consent", {"decision": "maybe"}, 400,
     "Indiquez si le consentement a été refusé ou retiré."),
    ("coordinator", "/ui/patients/kid-s/outcome", {"outcome": "declined"}, 400, "un motif est obligatoire"),
    ("coordinator", "/ui/alerts/999/ack", {}, 404, "Aucune alerte 999 pour ce site."),
    ("investigator", "/ui/patients/kid-s/confirmation", {"as_of": "2026-11-30", "reauth": "x"}, 403,
     "Le jeton saisi à nouveau n'est pas le vôtre"),
    ("investigator", "/ui/patients/kid-s/confirmation", {"as_of": "someday"}, 400,
     "La confirmation nécessite la date de la présélection (AAAA-MM-JJ)."),
])
def test_a_refused_form_is_answered_in_french(app, tokens, eligible_child, role, path, form, status, french):
    english, page = _both(app, tokens[role], path, form)
    assert (english.status_code, page.status_code) == (status, status), page.text
    assert french in html.unescape(page.text)
    assert_french(english.text, page.text)


def test_a_signature_for_another_day_is_refused_in_french_with_french_dates(app, tokens, eligible_child):
    investigator = Browser(app, tokens["investigator"])
    investigator.client.cookies.set("myocit_language", "fr", path="/ui")
    page = investigator.post("/ui/patients/kid-s/confirmation", {"as_of": "2026-11-30",
                                                                  "reauth": tokens["investigator"]})
    assert page.status_code == 409
    text = html.unescape(page.text)
    assert "Non signée : l'éligibilité ne peut pas être signée" in text
    assert "est au 1 décembre 2026, et non au 30 novembre 2026." in text


@pytest.mark.parametrize("role, path, french", [
    ("coordinator", "/ui/screening-log?from=someday", "Le premier jour de la période n'est pas une date"),
    ("coordinator", "/ui/screening-log?site=site-z", "Le site site-z n'est pas l'un des vôtres."),
    ("admin", "/ui/protocols?a=nothing&b=else", "Choisissez deux versions dans la liste."),
])
def test_a_problem_with_what_a_page_was_asked_is_said_in_french(app, tokens, eligible_child, role, path, french):
    english, page = _both(app, tokens[role], path)
    assert english.status_code == page.status_code
    assert french in html.unescape(page.text)
    assert_french(english.text, page.text)


def test_the_timeline_says_alerts_their_acknowledgement_and_the_consent_stop_in_french(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-f", "site-a")
    coordinator = Browser(app, tokens["coordinator"])
    alert = api.get("/alerts", headers=bearer(tokens["coordinator"])).json()[0]
    assert coordinator.post(f"/ui/alerts/{alert['id']}/ack").status_code == 303
    assert coordinator.post("/ui/patients/kid-f/consent", {"decision": "rejected"}).status_code == 303
    run_pending(rt)
    english, page = _both(app, tokens["coordinator"], "/ui/patients/kid-f")
    text = html.unescape(page.text)
    assert "alerte émise : non éligible → éligible" in text
    assert f"alerte {alert['id']} acquittée par coordinator" in text
    assert "alertes arrêtées : consentement refusé ou retiré" in text
    assert "alert raised: ineligible → eligible" in html.unescape(english.text)
    assert_french(english.text, page.text)
