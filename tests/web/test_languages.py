"""Every page in French and in English (contract §18), found from the app's own routes, so a page or a
text merged later is checked without touching this file.

Two checks on each page read in French: no English text of the catalog (an id whose French differs)
is left in it, and no text of the English page comes back unchanged in the French one unless it is
data (ids, codes, names, dates, figures). The second catches a text nobody marked for translation.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from config import language
from tests.fhir_samples import DETECTED, coded, eligible_record, immunization
from tests.inprocess import post_record, run_pending
from tests.web.conftest import DAY, Browser, cmv_flip

SKIPPED_ROUTES = {"/ui/language", "/ui/screening-log.csv", "/ui/oidc/login", "/ui/oidc/callback"}
"""Routes that are no page: the selector's redirect, a CSV, the provider's redirects."""

DATA = re.compile(
    r"(kid-[a-z]+|site-[a-z]|(?:INC|EXC)-[A-Z0-9-]+|\b[A-Z0-9][A-Z0-9.\-/]*\b|\d[\d\-:.,/ ]*|myocit[a-z \-]*|"
    r"MYOCIT|coordinator|investigator|admin|lab|Observation/\S+|Patient/\S+|Immunization/\S+|"
    r"Condition/\S+|MedicationStatement/\S+|Consent/\S+|Coverage/\S+|[a-z]+-[a-z]+-\d+|CET|CEST|UTC|"
    r"English|Français|sha256|SHA-256|JSON|CSV|FHIR|g/dL|mL/min|kg|cm|mg|IU/L|×10⁹/L)")


class _Text(HTMLParser):
    """The text a reader sees, leaving out code samples and what is marked as another language."""

    SKIP = {"script", "style", "code", "pre"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIP or attributes.get("lang") not in (None, language.current()) and "lang" in attributes \
                and tag != "html":
            self._skipping.append(tag)
        for name in ("aria-label", "title", "placeholder", "alt"):
            if attributes.get(name) and not self._skipping:
                self.texts.append(attributes[name])

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skipping:
            self.texts.append(text)


def texts(html: str, lang: str) -> list[str]:
    token = language.using(lang)
    try:
        parser = _Text()
        parser.feed(html)
        return parser.texts
    finally:
        language.restore(token)


def english_words(text: str, alike: set[str] = frozenset()) -> str:
    """What is left of a text once its data is taken out: the words an interface would translate."""
    return " ".join(w for w in DATA.sub(" ", text).split() if re.search(r"[A-Za-z]{3,}", w) and w not in alike)


def interface_ids() -> list[str]:
    """The catalog's English texts that French writes otherwise: none of them may be on a French page."""
    catalog = language.translations("fr")
    found = []
    for english in catalog._catalog:  # noqa: SLF001 - the compiled catalog's ids
        text = english if isinstance(english, str) else english[0]
        if not text or "{" in text or "%(" in text or catalog.gettext(text) == text:
            continue
        if " " in text.strip() and re.search(r"[a-z]{4,}", text):
            found.append(text)
    return found


def same_in_french() -> set[str]:
    """Words the catalog writes alike in both languages ("Patient", "Version", "inclusion")."""
    catalog = language.translations("fr")
    return {text for text in catalog._catalog if isinstance(text, str) and text  # noqa: SLF001
            and catalog.gettext(text) == text}


@pytest.fixture()
def children(api, tokens, rt):
    """Children of every status, an alert, an outcome and a signature's absence: every part of the pages."""
    post_record(api, tokens, eligible_record("kid-ok", DAY))
    post_record(api, tokens, eligible_record("kid-wait", DAY) + [immunization("kid-wait", "03", "2026-11-20")])
    post_record(api, tokens, eligible_record("kid-todo", DAY, with_cmv=False))
    post_record(api, tokens, eligible_record("kid-no", DAY, with_cmv=False)
                + [coded("kid-no", "4996-5", DETECTED, "2026-11-25")])
    cmv_flip(api, tokens, rt, "kid-flip", "site-a")
    run_pending(rt)
    with rt.uow() as uow:
        from store.models import Alert
        alert_pk = uow.session.query(Alert.pk).order_by(Alert.pk).first()[0]
    return {"patient_id": "kid-no", "alert_id": str(alert_pk)}


def page_paths(app, ids: dict) -> list[str]:
    """Every GET page under /ui, its path parameters filled with the children's ids."""
    paths = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/ui") or "GET" not in (getattr(route, "methods", None) or ()):
            continue
        if path in SKIPPED_ROUTES or path.startswith("/ui/static"):
            continue
        filled = re.sub(r"\{(\w+)\}", lambda m: ids.get(m[1], "?"), path)
        if "?" not in filled:
            paths.append(filled)
    extra = [f"/ui/patients/{pid}" for pid in ("kid-ok", "kid-wait", "kid-todo", "kid-flip")]
    return sorted(set(paths + extra + ["/ui/patients/kid-no?as_of=2026-12-20", "/ui/patients/nobody"]))


def read(app, token: str, path: str, lang: str) -> str:
    browser = Browser(app, token)
    browser.client.cookies.set("myocit_language", lang, path="/ui")
    answer = browser.get(path)
    assert answer.status_code in (200, 404), (path, answer.status_code)
    return answer.text


@pytest.mark.parametrize("role", ["coordinator", "investigator", "admin"])
def test_every_page_in_french_keeps_no_english_interface_text(app, tokens, children, role):
    ids = [re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-])") for text in interface_ids()]
    alike = same_in_french()
    left: dict[str, set[str]] = {}
    for path in page_paths(app, children):
        english, french = read(app, tokens[role], path, "en"), read(app, tokens[role], path, "fr")
        assert '<html lang="fr">' in french and '<html lang="en">' in english
        seen_in_english = set(texts(english, "en"))
        for text in texts(french, "fr"):
            if text in seen_in_english and english_words(text, alike):
                left.setdefault(path, set()).add(text)
            for english_text in ids:
                if english_text.search(text):
                    left.setdefault(path, set()).add(english_text.pattern)
    assert not left, "English left on French pages: " + repr(left)


def test_the_login_page_and_an_error_page_in_french(app):
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    page = client.get("/ui/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page.text and "Se connecter" in page.text
    assert page.headers["Content-Language"] == "fr"
    english = client.get("/ui/login", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text


def test_the_selector_remembers_the_choice_and_goes_back_to_the_page(app, tokens, children):
    browser = Browser(app, tokens["coordinator"])
    chosen = browser.get("/ui/language?to=fr&back=/ui/alerts")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/ui/alerts"
    assert "myocit_language=fr" in chosen.headers["set-cookie"]
    page = browser.get("/ui/alerts", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in page.text and "Alertes" in page.text
    assert browser.get("/ui/language?to=en&back=https://elsewhere.example/").headers["location"] == "/ui"
    assert '<html lang="en">' in browser.get("/ui").text


def test_reasons_and_dates_on_a_french_page_are_written_the_french_way(app, tokens, children):
    page = read(app, tokens["coordinator"], "/ui/patients/kid-no", "fr")
    assert "PCR CMV sanguine" in page and "le 25 novembre 2026" in page
    assert "ADN du CMV détecté" in page
    assert "non éligible" in page.lower()


def test_myocit_language_is_the_default_when_the_reader_asks_for_none(tmp_path):
    from tests.inprocess import make_runtime
    from web.app import create_app

    runtime = make_runtime(tmp_path, ui_secret="test-secret", language="fr")
    try:
        client = TestClient(create_app(runtime), raise_server_exceptions=False, follow_redirects=False)
        assert '<html lang="fr">' in client.get("/ui/login").text
        assert '<html lang="en">' in client.get("/ui/login", headers={"Accept-Language": "en-GB"}).text
        client.cookies.set("myocit_language", "en", path="/ui")
        assert '<html lang="en">' in client.get("/ui/login", headers={"Accept-Language": "fr"}).text
    finally:
        runtime.dispose()
