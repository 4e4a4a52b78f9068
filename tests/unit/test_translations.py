"""The French catalog is complete and consistent (contract §18), whoever adds a text.

Every id `make messages` would extract (the pages' templates, `_()`, `N_()`, the rules' `said_as` and
`term`) has a French translation placing the same values; every reason the engine writes for a set of
records is written in French with nothing left in English; a reason's values keep their meaning
(dates written the French way, decimal commas)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from config import language
from config.language import LOCALE_DIR
from domain import evaluate
from domain.wording import Figures, Said, Writer, placeholders, said_as, term, written
from tests.fhir_samples import DETECTED, bundle, coded, eligible_record, immunization

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "said_as": None, "term": None,
            "latest_result": (3,), "_cytopenia": (2,)}


def extracted_ids() -> set[str]:
    with (LOCALE_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def french_catalog():
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale="fr")


def test_every_text_of_the_code_has_a_french_translation():
    catalog = french_catalog()
    untranslated = sorted(m for m in extracted_ids()
                          if m not in catalog or not catalog[m].string
                          or (isinstance(catalog[m].string, tuple) and not all(catalog[m].string)))
    assert not untranslated, ("texts without French (run `make messages`, then translate them in "
                              f"config/locale/fr/LC_MESSAGES/messages.po): {untranslated}")


def test_each_translation_places_the_values_its_english_places():
    for message in french_catalog():
        if not message.id or not isinstance(message.id, str):
            continue
        assert placeholders(message.string) == placeholders(message.id), message.id
        assert message.string.count("%(") == message.id.count("%("), message.id


def _bundles():
    """Records of every status, as FHIR Bundles: the engine's samples, the typical child, the demo child."""
    day = date(2026, 12, 1)
    for resources in (
        eligible_record("r-ok", day),
        eligible_record("r-wait", day) + [immunization("r-wait", "03", "2026-11-20")],
        eligible_record("r-todo", day, with_cmv=False),
        eligible_record("r-no", day, with_cmv=False) + [coded("r-no", "4996-5", DETECTED, "2026-11-25")],
    ):
        if resources:
            yield bundle(resources, "collection")
    for path in (ROOT / "tests" / "fixtures" / "typical-child.json", ROOT / "myocit" / "demo_child.json"):
        yield json.loads(path.read_text())


class Recording:
    """A French writer that notes every id or term the catalog does not know."""

    def __init__(self) -> None:
        self.catalog = language.translations("fr")
        self.known = {m.id for m in french_catalog() if m.id and m.string}
        self.missing: set[str] = set()

    def translate(self, text: str) -> str:
        if text not in self.known:
            self.missing.add(text)
        return self.catalog.gettext(text)

    def writer(self) -> Writer:
        french = language.writer("fr")
        return Writer(self.translate, french.day, french.figures)


def test_every_reason_of_the_engines_records_is_written_in_french():
    from config.protocol_files import load_protocol
    from domain import PatientRecord
    from domain.wording import from_json
    from ingest.fhir import parse_json, read_bundle, screening_input

    protocol, recording = load_protocol(), Recording()
    writer, written_reasons = recording.writer(), 0
    for raw in _bundles():
        patient, profile, facts = screening_input(read_bundle(parse_json(json.dumps(raw).encode())), protocol=protocol)
        record = PatientRecord.build(patient, profile, facts, protocol)
        for as_of in (date(2026, 12, 1), date(2027, 6, 1)):
            for message in evaluate(record, protocol, as_of).reasons():
                written(from_json(message), writer)
                written_reasons += 1
    assert written_reasons >= 34 * 6
    assert not recording.missing, f"reasons left in English: {sorted(recording.missing)}"


@pytest.mark.parametrize(("message", "english", "french"), [
    (said_as("{result}, {words}", result=said_as("Haemoglobin {quantity}", quantity=Figures("7.2 g/dL")),
             words=said_as("below {limit}", limit=Figures("8 g/dL"))),
     "Haemoglobin 7.2 g/dL, below 8 g/dL", "Hémoglobine 7,2 g/dL, inférieure à 8 g/dL"),
    (said_as("{test} {value} on {on}", test=term("haemoglobin"), value=Figures("7.2 g/dL"), on=date(2026, 11, 25)),
     "haemoglobin 7.2 g/dL on 2026-11-25", "hémoglobine : 7,2 g/dL le 25 novembre 2026"),
    (said_as("Needs an investigator attestation"), "Needs an investigator attestation",
     "Attestation de l'investigateur nécessaire"),
])
def test_a_reason_is_one_message_written_in_either_language(message, english, french):
    assert str(message) == english == language.reason(message, "en")
    assert language.reason(message, "fr") == french
    stored = json.loads(json.dumps(language_json(message)))
    assert language.reason(stored, "fr") == french and language.reason(stored, "en") == english


def language_json(message: Said) -> dict:
    from domain.wording import to_json
    return to_json(message)


def test_a_reason_stored_as_plain_text_before_messages_is_still_shown():
    assert language.reason("Needs an investigator attestation", "fr") == "Attestation de l'investigateur nécessaire"
    assert language.reason("Some older wording", "fr") == "Some older wording"
    assert language.screening_in({"criteria": [{"id": "X", "reason": "Some older wording"}]}, None, "fr") == \
        {"criteria": [{"id": "X", "reason": "Some older wording"}]}


@pytest.mark.parametrize(("header", "chosen"), [
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("en-GB,en;q=0.9", "en"), ("de-DE, fr;q=0.5", "fr"),
    ("de", None), ("", None), ("fr;q=0, en;q=0.1", "en"),
])
def test_accept_language_picks_the_first_language_we_write(header, chosen):
    assert language.from_accept_language(header) == chosen
