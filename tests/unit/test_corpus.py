"""Every file of the public corpus (tests/fixtures/corpus, byte-for-byte copies of public samples whose
sources and licences its PROVENANCE.md gives) goes through ingestion
without crashing: FHIR resources and bundles give facts, ORU^R01 messages give lab results or an AE,
other HL7 v2 messages an AR. Nothing is skipped: a missing corpus is a failure."""

from __future__ import annotations

from datetime import date
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domain.facts import LabResult, Qualitative, Quantity
from domain.record import current_facts
from ingest import fhir, hl7v2
from ingest.errors import InvalidHl7

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
FHIR_DIRS = ("fhir-r4-spec", "fhir-r4-uscore", "synthea")


def corpus_files(pattern: str) -> list[Path]:
    return sorted(CORPUS.glob(pattern))


def test_the_corpus_is_there():
    assert CORPUS.is_dir(), f"corpus not found at {CORPUS}"
    listed = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    covered = {p.relative_to(CORPUS).as_posix() for d in FHIR_DIRS for p in corpus_files(f"{d}/*.json")}
    covered |= {p.relative_to(CORPUS).as_posix() for p in corpus_files("hl7v2/*.hl7")}
    assert listed - covered == {"PROVENANCE.md"}
    assert len(covered) >= 60


def read(path: Path):
    data = fhir.parse_json(path.read_bytes())
    if data.get("resourceType") == "Bundle":
        return fhir.extract_bundle(fhir.read_bundle(data))
    return [fhir.extract(fhir.read_resource(data))]


FHIR_FILES = [p for d in FHIR_DIRS for p in corpus_files(f"{d}/*.json")] or [CORPUS / "missing.json"]


@pytest.mark.parametrize("path", FHIR_FILES, ids=lambda p: p.name)
def test_every_fhir_file_is_read_and_extracted(path):
    extracted = read(path)
    data = fhir.parse_json(path.read_bytes())
    resources = [e for e in data.get("entry", ()) if "resource" in e] if data["resourceType"] == "Bundle" else [data]
    assert len(extracted) == len(resources)
    for item in extracted:
        assert item.source == f"{item.resource_type}/{item.resource_id}"
        for fact in item.facts:
            assert isinstance(fact.on, date)
        for warning in item.warnings:
            assert "\n" not in warning


def by_source(path: str) -> dict:
    return {f.source: f for item in read(CORPUS / path) for f in item.facts}


class TestFhirSamples:
    def test_statuses_of_the_spec_examples_pass_through(self):
        assert by_source("fhir-r4-spec/Observation-f202.json")["Observation/f202"].status == "entered-in-error"
        assert by_source("fhir-r4-spec/Observation-unsat.json")["Observation/unsat"].status == "cancelled"
        oyster = by_source("fhir-r4-spec/Observation-vp-oyster.json")["Observation/vp-oyster"]
        assert (oyster.status, oyster.qualitative) == ("preliminary", Qualitative.POSITIVE)

    def test_creatinine_in_si_units(self):
        fact = by_source("fhir-r4-spec/Bundle-ghp.json")
        creatinine = next(f for f in fact.values() if any(c.code == "14682-9" for c in f.codes))
        assert creatinine.quantity == Quantity(0.09, "mmol/L")

    def test_a_creatinine_with_a_non_ucum_unit_code_keeps_the_printed_unit(self):
        fact = by_source("fhir-r4-spec/Observation-f204.json")["Observation/f204"]
        assert fact.quantity == Quantity(122, "umol/L")

    def test_a_comparator_in_a_component(self):
        facts = by_source("fhir-r4-spec/Observation-f205.json")
        assert any(f.quantity and f.quantity.comparator == ">" for f in facts.values())

    @pytest.mark.parametrize("path", corpus_files("synthea/*.json"), ids=lambda p: p.name[:12])
    def test_synthea_bundles_screen_their_one_patient(self, path):
        data = fhir.parse_json(path.read_bytes())
        patient_id, profile, facts = fhir.screening_input(fhir.read_bundle(data))
        assert patient_id == next(e["resource"]["id"] for e in data["entry"]
                                  if e["resource"]["resourceType"] == "Patient")
        assert profile is not None and profile.birth_date is not None
        assert facts


HL7_FILES = corpus_files("hl7v2/*.hl7") or [CORPUS / "hl7v2" / "missing.hl7"]
NOT_ORU = {"ADT01-23.hl7", "ADT01-28.hl7", "ADT04-23.hl7", "IZ_1_1.1_Admin_Child_Max_Message.hl7"}
REFUSED_ORU = {"realm-hepatitis-c-virus.hl7": ("AE", 101)}  # field-shifted OBX: no OBX-11


@pytest.mark.parametrize("path", HL7_FILES, ids=lambda p: p.name)
def test_every_hl7v2_file_gives_results_or_an_ack(path):
    raw = path.read_bytes()
    if path.name in NOT_ORU or path.name in REFUSED_ORU:
        with pytest.raises(InvalidHl7) as caught:
            hl7v2.extract_oru(raw, revision=1)
        expected = ("AR", 200) if path.name in NOT_ORU else REFUSED_ORU[path.name]
        assert (caught.value.ack_code, caught.value.error_code) == expected
        ack = hl7v2.ack_error(raw, caught.value, now=NOW)
        assert ack.split("\r")[1].startswith(f"MSA|{expected[0]}|")
        return
    out = hl7v2.extract_oru(raw, revision=1)
    assert out.control_id and out.subject.value
    assert out.facts and all(isinstance(f, LabResult) for f in out.facts)
    assert hl7v2.ack(hl7v2.parse_message(raw), "AA", now=NOW).split("\r")[1].startswith(f"MSA|AA|{out.control_id}")


def hl7_facts(name: str, revision: int) -> list:
    return hl7v2.extract_oru((CORPUS / "hl7v2" / name).read_bytes(), revision=revision).facts


class TestHl7Samples:
    def test_the_nist_corrected_lead_result_replaces_the_first(self):
        first = hl7_facts("ORU_R01_2.5.1_SampleTestCase1.hl7", 1)
        corrected = hl7_facts("ORU_R01_2.5.1_SampleTestCase3.hl7", 2)
        [kept] = current_facts(first + corrected)
        assert kept.quantity == Quantity(25.0, "ug/dl") and kept.status == "corrected"

    def test_preliminary_results_become_final(self):
        preliminary = hl7_facts("LAB-ORU-1.hl7", 1)
        assert {f.status for f in preliminary} == {"preliminary", "final"}
        final = hl7_facts("LAB-ORU-2.hl7", 2)
        kept = current_facts(preliminary + final)
        assert kept and all(f.status == "final" for f in kept)

    def test_hepatitis_serology_answers(self):
        facts = hl7_facts("CDC_Hepatitis_V1_0_1_TM_TC02_HEP_B_ACUTE.hl7", 1)
        anti_hbc = next(f for f in facts if f.codes[0].code == "16933-4")
        assert anti_hbc.qualitative is Qualitative.POSITIVE

    def test_a_text_pcr_result(self):
        [fact] = hl7_facts("CDC_WI_v231.hl7", 1)
        assert fact.qualitative is Qualitative.NEGATIVE and fact.on == date(2022, 12, 12)
