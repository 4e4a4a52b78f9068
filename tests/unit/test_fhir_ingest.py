"""FHIR R4 JSON to domain facts: one test per mapping of contract §2, and the refusals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.facts import (
    Assessment,
    Attestation,
    Code,
    ConsentRecord,
    ConsentState,
    CoverageRecord,
    Diagnosis,
    LabResult,
    MedicationExposure,
    Qualitative,
    Quantity,
    Sex,
    Vaccination,
)
from domain.record import current_facts
from ingest import fhir
from ingest.errors import InvalidInput
from ingest.fhir_values import UNDATED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def observation(**fields) -> dict:
    data = {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "718-7"}]},
        "subject": {"reference": "Patient/p-1"},
        "effectiveDateTime": "2026-11-20",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def facts_of(data: dict, **kwargs) -> list:
    return fhir.extract(fhir.read_resource(data), **kwargs).facts


def only(data: dict, **kwargs):
    facts = facts_of(data, **kwargs)
    assert len(facts) == 1, facts
    return facts[0]


def bundle(*resources: dict, kind: str = "collection", full_urls: list[str] | None = None) -> dict:
    entries = []
    for i, resource in enumerate(resources):
        entry = {"resource": resource}
        if full_urls:
            entry["fullUrl"] = full_urls[i]
        if kind in ("batch", "transaction"):
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


# --- reading and refusing ------------------------------------------------------------------------------


class TestParseJson:
    def test_an_object_with_a_byte_order_mark_is_read(self):
        assert fhir.parse_json(b"\xef\xbb\xbf{\"resourceType\": \"Patient\"}") == {"resourceType": "Patient"}

    @pytest.mark.parametrize("text, expected", [
        ("{\"a\": 1,", "not valid JSON: line 1"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ("", "empty input"),
        ("{\"a\": NaN}", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
    ])
    def test_what_is_not_a_json_object_is_refused_in_one_line(self, text, expected):
        with pytest.raises(InvalidInput) as caught:
            fhir.parse_json(text)
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)
        assert caught.value.code == "structure"


class TestReadResource:
    def test_an_unknown_resource_type_is_not_supported(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource({"resourceType": "Bogus", "id": "x"})
        assert caught.value.code == "not-supported"
        assert "unknown resourceType" in str(caught.value)
        assert "Bogus" not in str(caught.value)  # error bodies never echo what was sent (contract §13)

    def test_a_missing_resource_type_is_required(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource({"id": "x"})
        assert caught.value.code == "required"

    def test_a_missing_required_choice_names_its_choices_not_a_date_error(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource({"resourceType": "Immunization", "id": "i1", "status": "completed",
                                "vaccineCode": {"text": "MMR"}, "patient": {"reference": "Patient/p"}})
        assert caught.value.code == "required"
        assert str(caught.value) == ("Immunization/i1: required element is missing: one of occurrenceDateTime, "
                                     "occurrenceString")

    def test_a_missing_required_element_names_it(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource(observation(status=None))
        assert str(caught.value) == "Observation/obs-1: status: required element is missing"
        assert caught.value.code == "required"
        assert caught.value.location == "Observation.status"

    def test_a_value_that_is_not_a_number_says_so(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource(observation(valueQuantity={"value": "lots", "unit": "g/dL"}))
        assert str(caught.value) == "Observation/obs-1: valueQuantity.value: not a number"
        assert caught.value.code == "value"

    @pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "20261120", "2026-11-20T10:00:00"])
    def test_impossible_or_malformed_dates_are_refused(self, value):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource(observation(effectiveDateTime=value))
        assert caught.value.code == "value"
        assert "effectiveDateTime" in str(caught.value)

    def test_a_refusal_never_quotes_the_patient(self):
        patient = {"resourceType": "Patient", "id": "p-1", "name": [{"family": "Zyxwvut", "given": ["Qwerty"]}],
                   "birthDate": "2015-02-31"}
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource(patient)
        message = str(caught.value)
        assert "Zyxwvut" not in message and "Qwerty" not in message and "2015-02-31" not in message
        assert message == "Patient/p-1: birthDate: not a valid date (no such day)"

    def test_an_unknown_element_is_a_structure_error(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_resource(observation(valueQuantty={"value": 1}))
        assert caught.value.code == "structure"

    def test_an_unknown_status_code_is_refused_at_extraction(self):
        with pytest.raises(InvalidInput) as caught:
            facts_of(observation(status="done", valueQuantity={"value": 1}))
        assert caught.value.code == "code-invalid"
        assert caught.value.location == "Observation.status"


class TestReadBundle:
    @pytest.mark.parametrize("kind", ["collection", "batch", "transaction", "searchset", "document"])
    def test_offline_screening_accepts_these_bundle_types(self, kind):
        assert fhir.read_bundle(bundle(observation(valueQuantity={"value": 1}), kind=kind)).type == kind

    def test_submissions_accept_only_batch_transaction_and_collection(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(bundle(kind="searchset"), types=fhir.SUBMISSION_BUNDLE_TYPES)
        assert caught.value.code == "not-supported"
        assert caught.value.location == "Bundle.type"

    def test_a_bundle_of_another_type_is_refused(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(bundle(kind="message"))
        assert "type is not one accepted here" in str(caught.value) and "message" not in str(caught.value)

    def test_a_resource_is_not_a_bundle(self):
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(observation())
        assert str(caught.value) == "expected a Bundle, got resourceType Observation"

    def test_an_invalid_entry_is_named_by_index_and_resource(self):
        bad = observation(id="obs-2", valueQuantity={"value": "n/a"})
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(bundle(observation(), bad))
        assert str(caught.value) == "entry 1 (Observation/obs-2): valueQuantity.value: not a number"
        assert caught.value.location == "Bundle.entry[1].resource.valueQuantity.value"

    def test_an_entry_without_resource_type_is_refused(self):
        data = bundle(observation())
        data["entry"][0]["resource"].pop("resourceType")
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(data)
        assert caught.value.location == "Bundle.entry[0].resource.resourceType"

    def test_a_contained_resource_of_unknown_type_is_refused(self):
        data = bundle(observation(contained=[{"resourceType": "Nope", "id": "n"}]))
        with pytest.raises(InvalidInput) as caught:
            fhir.read_bundle(data)
        assert caught.value.code == "not-supported"

    def test_an_entry_without_a_resource_is_skipped(self):
        data = bundle(observation(valueQuantity={"value": 1}), kind="transaction")
        data["entry"].append({"request": {"method": "DELETE", "url": "Observation/old"}})
        assert len(fhir.extract_bundle(fhir.read_bundle(data))) == 1


# --- Observation: laboratory results -------------------------------------------------------------------


class TestLabResults:
    def test_a_quantity_keeps_its_ucum_code_and_comparator(self):
        fact = only(observation(valueQuantity={"value": 0.4, "comparator": "<", "unit": "G/L", "system": UCUM,
                                               "code": "10*9/L"}))
        assert isinstance(fact, LabResult)
        assert fact.quantity == Quantity(0.4, "10*9/L", "<")
        assert fact.codes == (Code("loinc", "718-7"),)
        assert (fact.source, fact.on, fact.status) == ("Observation/obs-1", date(2026, 11, 20), "final")

    def test_a_quantity_without_a_ucum_code_keeps_its_printed_unit(self):
        fact = only(observation(valueQuantity={"value": 1.2, "unit": "G/L"}))
        assert fact.quantity == Quantity(1.2, "G/L")

    def test_a_unit_coded_outside_ucum_falls_back_to_the_printed_unit(self):
        fact = only(observation(valueQuantity={"value": 122, "unit": "umol/L", "system": SCT, "code": "258814008"}))
        assert fact.quantity.unit == "umol/L"

    @pytest.mark.parametrize("code, answer", [
        ("260373001", Qualitative.POSITIVE), ("10828004", Qualitative.POSITIVE),
        ("11214006", Qualitative.POSITIVE), ("77386006", Qualitative.POSITIVE),
        ("413712001", Qualitative.POSITIVE), ("260415000", Qualitative.NEGATIVE),
        ("260385009", Qualitative.NEGATIVE), ("131194007", Qualitative.NEGATIVE),
        ("60001007", Qualitative.NEGATIVE), ("42425007", Qualitative.EQUIVOCAL),
        ("82334004", Qualitative.EQUIVOCAL),
    ])
    def test_snomed_answers_reduce_to_positive_negative_or_equivocal(self, code, answer):
        fact = only(observation(valueCodeableConcept={"coding": [{"system": SCT, "code": code}]}))
        assert fact.qualitative is answer

    def test_an_answer_given_only_as_text_is_read(self):
        fact = only(observation(valueCodeableConcept={"text": "Not detected"}))
        assert fact.qualitative is Qualitative.NEGATIVE and fact.text == "Not detected"

    def test_a_string_value_is_kept_and_read_when_it_is_a_plain_answer(self):
        assert only(observation(valueString="Positive")).qualitative is Qualitative.POSITIVE
        fact = only(observation(valueString="see comment"))
        assert fact.qualitative is None and fact.text == "see comment"

    @pytest.mark.parametrize("flag, answer", [
        ("POS", Qualitative.POSITIVE), ("DET", Qualitative.POSITIVE), ("NEG", Qualitative.NEGATIVE),
        ("ND", Qualitative.NEGATIVE), ("IND", Qualitative.EQUIVOCAL), ("E", Qualitative.EQUIVOCAL),
        ("A", Qualitative.POSITIVE), ("N", Qualitative.NEGATIVE),
    ])
    def test_an_interpretation_stands_in_for_a_missing_answer(self, flag, answer):
        interp = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                               "code": flag}]}]
        assert only(observation(interpretation=interp)).qualitative is answer

    def test_abnormal_on_a_number_is_not_read_as_positive(self):
        interp = [{"coding": [{"code": "A"}]}]
        assert only(observation(valueQuantity={"value": 7.2, "unit": "g/dL"}, interpretation=interp)).qualitative is None

    def test_a_lab_negative_interpretation_goes_with_a_number(self):
        interp = [{"coding": [{"code": "NEG"}]}]
        fact = only(observation(valueQuantity={"value": 2, "comparator": "<", "unit": "GPL"}, interpretation=interp))
        assert fact.qualitative is Qualitative.NEGATIVE and fact.quantity.comparator == "<"

    @pytest.mark.parametrize("status", ["final", "amended", "corrected", "preliminary", "entered-in-error",
                                        "cancelled", "registered"])
    def test_the_status_passes_through(self, status):
        assert only(observation(status=status, valueQuantity={"value": 1})).status == status

    def test_the_date_is_taken_as_written_and_the_instant_orders_the_day(self):
        fact = only(observation(effectiveDateTime="2026-11-20T23:30:00-05:00", valueQuantity={"value": 1}))
        assert fact.on == date(2026, 11, 20)
        assert fact.seq == "2026-11-21T04:30:00.000000Z"

    def test_the_period_start_then_issued_give_the_date(self):
        fact = only(observation(effectiveDateTime=None, effectivePeriod={"start": "2026-11-18"}))
        assert fact.on == date(2026, 11, 18)
        fact = only(observation(effectiveDateTime=None, issued="2026-11-19T08:00:00+01:00"))
        assert fact.on == date(2026, 11, 19)

    def test_an_observation_without_any_date_gives_no_fact_but_a_warning(self):
        out = fhir.extract(fhir.read_resource(observation(effectiveDateTime=None, valueQuantity={"value": 1})))
        assert out.facts == [] and "no effective date" in out.warnings[0]

    def test_the_revision_is_the_callers(self):
        assert only(observation(valueQuantity={"value": 1}), revision=7).revision == 7

    def test_a_contained_specimen_gives_the_specimen_type_and_sample(self):
        data = observation(valueCodeableConcept={"coding": [{"system": SCT, "code": "260415000"}]},
                           specimen={"reference": "#sp"},
                           contained=[{"resourceType": "Specimen", "id": "sp", "type": {"text": "Whole blood"}}])
        fact = only(data)
        assert fact.specimen == "Whole blood" and fact.sample == "Observation/obs-1#sp"

    def test_a_specimen_reference_display_is_the_specimen(self):
        fact = only(observation(valueQuantity={"value": 1}, specimen={"reference": "Specimen/s-9", "display": "Plasma"}))
        assert (fact.specimen, fact.sample) == ("Plasma", "Specimen/s-9")

    def test_components_with_codes_become_results_of_their_own(self):
        data = observation(code={"coding": [{"system": LOINC, "code": "33914-3"}]}, component=[
            {"code": {"coding": [{"system": LOINC, "code": "48643-1"}]},
             "valueQuantity": {"value": 60, "comparator": ">", "system": UCUM, "code": "mL/min/{1.73_m2}"}}])
        top, component = facts_of(data)
        assert top.quantity is None
        assert component.source == "Observation/obs-1#component-0"
        assert component.quantity == Quantity(60, "mL/min/{1.73_m2}", ">")

    def test_a_code_no_criterion_uses_is_kept_with_a_warning(self):
        from config.protocol_files import load_protocol

        resource = fhir.read_resource(observation(code={"coding": [{"system": LOINC, "code": "1234-5"}]},
                                                  valueQuantity={"value": 1}))
        out = fhir.extract(resource, protocol=load_protocol())
        assert out.facts[0].codes == (Code("loinc", "1234-5"),)
        assert out.warnings == ["Observation/obs-1: loinc 1234-5 is not used by any criterion"]
        assert fhir.extract(resource).warnings == []  # the protocol in force is given, never loaded here

    def test_pregnancy_status_is_a_result_with_a_snomed_answer(self):
        data = observation(code={"coding": [{"system": LOINC, "code": "82810-3"}]},
                           valueCodeableConcept={"coding": [{"system": SCT, "code": "77386006"}]})
        assert only(data).qualitative is Qualitative.POSITIVE


# --- Observation: assessments and attestations ----------------------------------------------------------


def assessment(code: str, **value) -> dict:
    return observation(code={"coding": [{"system": "urn:myocit:assessment", "code": code}]}, **value)


class TestAssessments:
    def test_mmt8_as_an_integer(self):
        fact = only(assessment("MMT8", valueInteger=58))
        assert isinstance(fact, Assessment)
        assert fact.score == 58 and fact.codes == (Code("myocit-assessment", "MMT8"),)

    def test_cmas_as_a_quantity(self):
        assert only(assessment("CMAS", valueQuantity={"value": 31, "unit": "points"})).score == 31

    @pytest.mark.parametrize("value", [True, False])
    def test_menarche_as_a_boolean(self, value):
        fact = only(assessment("menarche", valueBoolean=value))
        assert fact.flag is value and fact.score is None

    def test_an_age_at_menarche_means_after_menarche(self):
        data = observation(code={"coding": [{"system": SCT, "code": "398700009"}]},
                           valueQuantity={"value": 12, "unit": "a"})
        fact = only(data)
        assert isinstance(fact, Assessment) and fact.flag is True
        assert Code("myocit-assessment", "menarche") in fact.codes


def attestation(verdict: str | None = "pass", **fields) -> dict:
    value = {"coding": [{"system": "urn:myocit:verdict", "code": verdict}]} if verdict else None
    return observation(code={"coding": [{"system": "urn:myocit:criterion", "code": "EXC-ORAL"}]},
                       valueCodeableConcept=value, performer=[{"reference": "Practitioner/inv-1"}],
                       note=[{"text": "Swallows tablets."}], **fields)


class TestAttestations:
    def test_an_attestation_carries_verdict_performer_and_note(self):
        fact = only(attestation("fail"))
        assert isinstance(fact, Attestation)
        assert (fact.criterion, fact.verdict, fact.performer, fact.note) == (
            "EXC-ORAL", "fail", "Practitioner/inv-1", "Swallows tablets.")

    def test_an_attestation_without_verdict_is_refused(self):
        with pytest.raises(InvalidInput) as caught:
            facts_of(attestation(None))
        assert caught.value.code == "required"

    def test_a_verdict_other_than_pass_or_fail_is_refused(self):
        with pytest.raises(InvalidInput) as caught:
            facts_of(attestation("maybe"))
        assert caught.value.code == "code-invalid"

    def test_a_retracted_attestation_needs_no_verdict(self):
        assert only(attestation(None, status="entered-in-error")).status == "entered-in-error"

    def test_an_unknown_criterion_is_kept_with_a_warning(self):
        data = attestation()
        data["code"]["coding"][0]["code"] = "EXC-NOPE"
        out = fhir.extract(fhir.read_resource(data))
        assert out.facts[0].criterion == "EXC-NOPE" and "unknown criterion" in out.warnings[0]


# --- DiagnosticReport -----------------------------------------------------------------------------------


def report(status: str = "final", results=("Observation/obs-1",), **fields) -> dict:
    data = {"resourceType": "DiagnosticReport", "id": "dr-1", "status": status,
            "code": {"coding": [{"system": LOINC, "code": "58410-2"}]}, "subject": {"reference": "Patient/p-1"},
            "effectiveDateTime": "2026-11-21", "result": [{"reference": r} for r in results]}
    data.update(fields)
    return data


class TestDiagnosticReports:
    def test_contained_results_are_read_with_the_report_date_and_sample(self):
        contained = observation(id="c1", effectiveDateTime=None, subject=None, valueQuantity={"value": 9.1, "unit": "g/dL"})
        facts = facts_of(report(results=["#c1"], contained=[contained]))
        assert [(f.source, f.on, f.quantity.value, f.sample) for f in facts] == [
            ("DiagnosticReport/dr-1#c1", date(2026, 11, 21), 9.1, "DiagnosticReport/dr-1")]

    def test_a_retracted_report_retracts_results_it_cannot_see(self):
        facts = facts_of(report("entered-in-error"), revision=5)
        assert [(f.source, f.status, f.revision) for f in facts] == [("Observation/obs-1", "entered-in-error", 5)]

    def test_a_retracted_report_retracts_the_results_in_its_bundle(self):
        data = bundle(observation(valueQuantity={"value": 9.1, "unit": "g/dL"}), report("cancelled"))
        facts = [f for e in fhir.extract_bundle(fhir.read_bundle(data)) for f in e.facts]
        assert [(f.source, f.status) for f in facts] == [("Observation/obs-1", "cancelled")]
        assert current_facts(facts) == []

    def test_results_in_a_bundle_take_the_report_date_when_they_have_none(self):
        data = bundle(observation(effectiveDateTime=None, valueQuantity={"value": 1}), report())
        first = fhir.extract_bundle(fhir.read_bundle(data))[0]
        assert first.facts[0].on == date(2026, 11, 21)


# --- Condition, medicines, vaccines, consent, coverage, patient -----------------------------------------------


def condition(**fields) -> dict:
    data = {"resourceType": "Condition", "id": "c-1", "subject": {"reference": "Patient/p-1"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "resolved"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "B00.1"}]},
            "onsetDateTime": "2026-10-01", "abatementDateTime": "2026-10-12"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


class TestConditions:
    def test_a_condition_gives_codes_dates_and_statuses(self):
        fact = only(condition())
        assert isinstance(fact, Diagnosis)
        assert fact.codes == (Code("icd10", "B00.1"),)
        assert (fact.on, fact.abated, fact.status, fact.verification) == (
            date(2026, 10, 1), date(2026, 10, 12), "resolved", "confirmed")

    def test_a_refuted_condition_keeps_its_verification(self):
        fact = only(condition(verificationStatus={"coding": [{"code": "refuted"}]}))
        assert fact.verification == "refuted"
        assert current_facts([fact]) == []

    def test_the_recorded_date_stands_in_for_the_onset(self):
        assert only(condition(onsetDateTime=None, recordedDate="2026-09-01")).on == date(2026, 9, 1)

    def test_an_undated_condition_counts_as_long_ago_with_a_warning(self):
        out = fhir.extract(fhir.read_resource(condition(onsetDateTime=None, abatementDateTime=None)))
        assert out.facts[0].on == UNDATED and "no onset date" in out.warnings[0]

    def test_snomed_conditions(self):
        fact = only(condition(code={"coding": [{"system": SCT, "code": "88594005"}]}))
        assert fact.codes == (Code("snomed", "88594005"),)


def request(**fields) -> dict:
    data = {"resourceType": "MedicationRequest", "id": "mr-1", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p-1"}, "authoredOn": "2026-11-21",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "H02AB06"}],
                                          "text": "prednisolone"},
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M33.0"}]}],
            "dosageInstruction": [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d",
                                                         "boundsPeriod": {"start": "2026-11-22"}}},
                                   "route": {"text": "oral"},
                                   "doseAndRate": [{"doseQuantity": {"value": 30, "unit": "mg", "system": UCUM,
                                                                     "code": "mg"}}]}]}
    data.update(fields)
    return data


class TestMedicines:
    def test_a_request_gives_start_daily_dose_route_and_reasons(self):
        fact = only(request())
        assert isinstance(fact, MedicationExposure)
        assert fact.codes == (Code("atc", "H02AB06"),)
        assert (fact.on, fact.until, fact.daily_dose_mg, fact.route, fact.name) == (
            date(2026, 11, 22), None, 60.0, "oral", "prednisolone")
        assert fact.reasons == (Code("icd10", "M33.0"),)

    def test_a_dose_in_grams_and_a_duration(self):
        dosage = [{"timing": {"repeat": {"boundsDuration": {"value": 3, "unit": "d", "code": "d"}}},
                   "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "g", "code": "g", "system": UCUM}}]}]
        fact = only(request(dosageInstruction=dosage, medicationCodeableConcept={
            "coding": [{"system": "http://www.whocc.no/atc", "code": "H02AB04"}]}))
        assert (fact.on, fact.until, fact.daily_dose_mg) == (date(2026, 11, 21), date(2026, 11, 23), 1000.0)

    def test_a_dose_that_is_not_a_mass_gives_no_daily_dose(self):
        dosage = [{"doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]
        out = fhir.extract(fhir.read_resource(request(dosageInstruction=dosage)))
        assert out.facts[0].daily_dose_mg is None and "not a mass" in out.warnings[0]

    def test_a_contained_medication_gives_the_codes(self):
        fact = only(request(medicationCodeableConcept=None, medicationReference={"reference": "#m"},
                            contained=[{"resourceType": "Medication", "id": "m", "code": {
                                "coding": [{"system": "http://www.whocc.no/atc", "code": "L04AF02"}]}}]))
        assert fact.codes == (Code("atc", "L04AF02"),)

    def test_a_statement_reads_its_effective_period(self):
        data = {"resourceType": "MedicationStatement", "id": "ms-1", "status": "completed",
                "subject": {"reference": "Patient/p-1"},
                "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "L04AX03"}]},
                "effectivePeriod": {"start": "2025-01-10", "end": "2025-06-30"}}
        fact = only(data)
        assert (fact.on, fact.until, fact.status) == (date(2025, 1, 10), date(2025, 6, 30), "completed")

    def test_an_administration_is_one_day_with_its_dose(self):
        data = {"resourceType": "MedicationAdministration", "id": "ma-1", "status": "completed",
                "subject": {"reference": "Patient/p-1"}, "effectiveDateTime": "2026-11-20T09:00:00+01:00",
                "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "H02AB04"}]},
                "dosage": {"dose": {"value": 500, "unit": "mg", "system": UCUM, "code": "mg"},
                           "route": {"text": "intravenous"}}}
        fact = only(data)
        assert (fact.on, fact.until, fact.daily_dose_mg, fact.route) == (
            date(2026, 11, 20), date(2026, 11, 20), 500.0, "intravenous")


class TestImmunizationConsentCoverage:
    def test_an_immunization_gives_its_cvx_code_date_and_status(self):
        data = {"resourceType": "Immunization", "id": "i-1", "status": "not-done",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
                "patient": {"reference": "Patient/p-1"}, "occurrenceDateTime": "2026-11-10"}
        fact = only(data)
        assert isinstance(fact, Vaccination)
        assert (fact.codes, fact.on, fact.status) == ((Code("cvx", "03"),), date(2026, 11, 10), "not-done")

    @pytest.mark.parametrize("status, state", [("active", ConsentState.GIVEN), ("rejected", ConsentState.REFUSED),
                                               ("inactive", ConsentState.WITHDRAWN)])
    def test_consent_status_gives_the_decision(self, status, state):
        data = {"resourceType": "Consent", "id": "co-1", "status": status, "scope": {"text": "research"},
                "category": [{"text": "consent"}], "patient": {"reference": "Patient/p-1"},
                "dateTime": "2026-11-20T10:00:00+01:00"}
        fact = only(data)
        assert isinstance(fact, ConsentRecord)
        assert (fact.state, fact.on, fact.status) == (state, date(2026, 11, 20), status)

    def test_a_draft_consent_records_no_decision(self):
        data = {"resourceType": "Consent", "id": "co-1", "status": "draft", "scope": {"text": "research"},
                "category": [{"text": "consent"}], "dateTime": "2026-11-20"}
        out = fhir.extract(fhir.read_resource(data))
        assert out.facts == [] and "records no decision" in out.warnings[0]

    def test_coverage_gives_kind_status_and_period(self):
        data = {"resourceType": "Coverage", "id": "cv-1", "status": "active",
                "type": {"coding": [{"system": "urn:myocit:coverage", "code": "ame"}]},
                "beneficiary": {"reference": "Patient/p-1"}, "payor": [{"display": "CPAM"}],
                "period": {"start": "2026-01-01", "end": "2026-12-31"}}
        fact = only(data)
        assert isinstance(fact, CoverageRecord)
        assert (fact.kind, fact.status, fact.on, fact.until) == ("ame", "active", date(2026, 1, 1), date(2026, 12, 31))


class TestPatient:
    def test_a_patient_gives_profile_site_and_identifiers(self):
        data = {"resourceType": "Patient", "id": "p-1", "gender": "female", "birthDate": "2015-03-04",
                "managingOrganization": {"reference": "Organization/site-b"},
                "identifier": [{"system": "urn:mrn", "value": "M-1"}, {"value": "X-2"}]}
        out = fhir.extract(fhir.read_resource(data))
        assert out.profile.birth_date == date(2015, 3, 4) and out.profile.sex is Sex.FEMALE
        assert out.site == "site-b" == out.profile.site
        assert out.identifiers == [("urn:mrn", "M-1"), (None, "X-2")]
        assert out.subject == fhir.SubjectRef("id", "p-1")
        assert out.facts == []

    def test_a_resource_without_id_uses_the_fallback(self):
        data = observation(valueQuantity={"value": 1})
        data.pop("id")
        out = fhir.extract(fhir.read_resource(data), fallback_id="entry-3")
        assert out.source == "Observation/entry-3" and out.resource_id == "entry-3"
        with pytest.raises(InvalidInput):
            fhir.extract(fhir.read_resource(data))

    def test_other_resource_types_give_no_facts(self):
        out = fhir.extract(fhir.read_resource({"resourceType": "Organization", "id": "site-a"}))
        assert out.facts == [] and not out.supported


# --- bundles and offline screening ---------------------------------------------------------------------------


class TestBundles:
    def test_later_entries_of_the_same_resource_supersede_earlier_ones(self):
        first = observation(valueQuantity={"value": 7.0, "unit": "g/dL"})
        amended = observation(status="amended", valueQuantity={"value": 9.0, "unit": "g/dL"})
        facts = [f for e in fhir.extract_bundle(fhir.read_bundle(bundle(first, amended))) for f in e.facts]
        assert [f.revision for f in facts] == [0, 1]
        assert [f.quantity.value for f in current_facts(facts)] == [9.0]

    def test_a_version_id_never_orders_versions(self):
        # Contract §13: revisions are myocit's own storage order, never a number the sender controls.
        pinned = observation(valueQuantity={"value": 1}, meta={"versionId": "1000000000000000"})
        later = observation(status="corrected", valueQuantity={"value": 2}, meta={"versionId": "1"})
        huge = observation(id="obs-2", valueQuantity={"value": 3}, meta={"versionId": "1" + "0" * 30})
        facts = [f for e in fhir.extract_bundle(fhir.read_bundle(bundle(pinned, later, huge))) for f in e.facts]
        assert [f.revision for f in facts] == [0, 1, 2]
        assert sorted(f.quantity.value for f in current_facts(facts)) == [2.0, 3.0]

    def test_subjects_given_as_full_urls_resolve_to_the_patient(self):
        patient = {"resourceType": "Patient", "id": "p-7"}
        obs = observation(subject={"reference": "urn:uuid:aaaa"}, valueQuantity={"value": 1})
        data = bundle(patient, obs, kind="transaction", full_urls=["urn:uuid:aaaa", "urn:uuid:bbbb"])
        extracted = fhir.extract_bundle(fhir.read_bundle(data))
        assert extracted[1].subject == fhir.SubjectRef("id", "p-7")

    def test_a_subject_by_identifier(self):
        obs = observation(subject={"identifier": {"system": "urn:mrn", "value": "M-1"}}, valueQuantity={"value": 1})
        assert fhir.extract(fhir.read_resource(obs)).subject == fhir.SubjectRef("identifier", "M-1", "urn:mrn")

    def test_screening_input_keeps_the_patients_facts_and_drops_others(self):
        patient = {"resourceType": "Patient", "id": "p-1", "gender": "male", "birthDate": "2016-01-01",
                   "identifier": [{"system": "urn:mrn", "value": "M-1"}]}
        mine = observation(id="o1", valueQuantity={"value": 1})
        by_identifier = observation(id="o2", subject={"identifier": {"value": "M-1"}}, valueQuantity={"value": 2})
        other = observation(id="o3", subject={"reference": "Patient/p-2"}, valueQuantity={"value": 3})
        pid, profile, facts = fhir.screening_input(fhir.read_bundle(bundle(patient, mine, by_identifier, other)))
        assert pid == "p-1" and profile.sex is Sex.MALE
        assert sorted(f.source for f in facts) == ["Observation/o1", "Observation/o2"]

    def test_without_a_patient_the_most_referenced_subject_is_screened(self):
        data = bundle(observation(id="o1", valueQuantity={"value": 1}), observation(id="o2", valueQuantity={"value": 1}),
                      observation(id="o3", subject={"reference": "Patient/p-2"}, valueQuantity={"value": 1}))
        pid, profile, facts = fhir.screening_input(fhir.read_bundle(data))
        assert (pid, profile, len(facts)) == ("p-1", None, 2)

    def test_a_bundle_naming_no_patient_is_refused(self):
        data = bundle({"resourceType": "Organization", "id": "o"})
        with pytest.raises(InvalidInput) as caught:
            fhir.screening_input(fhir.read_bundle(data))
        assert caught.value.code == "required"

    def test_an_invalid_entry_found_at_extraction_names_the_entry(self):
        data = bundle(observation(valueQuantity={"value": 1}), observation(id="o2", status="bogus"))
        with pytest.raises(InvalidInput) as caught:
            fhir.extract_bundle(fhir.read_bundle(data))
        assert str(caught.value).startswith("entry 1: Observation/o2: status is not")
        assert "bogus" not in str(caught.value)  # error bodies never echo what was sent (contract §13)
        assert caught.value.location == "Bundle.entry[1].resource.status"


@pytest.fixture(scope="module")
def screened():
    data = fhir.parse_json((FIXTURES / "typical-child.json").read_bytes())
    return fhir.screening_input(fhir.read_bundle(data, types=fhir.SUBMISSION_BUNDLE_TYPES))


class TestTypicalChild:
    """tests/fixtures/typical-child.json: a synthetic JDM girl screened as of 2026-12-01."""

    def test_it_is_one_patient_at_site_a(self, screened):
        pid, profile, facts = screened
        assert pid == "pat-001"
        assert (profile.sex, profile.site, profile.birth_date) == (Sex.FEMALE, "site-a", date(2013, 6, 14))
        assert len(facts) > 40

    def test_french_units_and_the_steroid_dose_come_through(self, screened):
        _pid, _profile, facts = screened
        by_source = {f.source: f for f in facts}
        assert by_source["Observation/obs-lymph"].quantity == Quantity(1.2, "G/L")
        assert by_source["Observation/obs-creat"].quantity == Quantity(38, "umol/L")
        assert by_source["Observation/obs-cmv"].specimen == "Venous blood"
        assert by_source["MedicationRequest/medrx-pred"].daily_dose_mg == 68.0
        assert sum(isinstance(f, Attestation) for f in facts) == 16

    def test_no_criterion_stands_in_the_way(self, screened, protocol):
        from domain import PatientRecord, evaluate

        pid, profile, facts = screened
        result = evaluate(PatientRecord.build(pid, profile, facts, protocol), protocol, date(2026, 12, 1))
        assert [c.id for c in result.criteria if c.verdict.value == "fail"] == []

    def test_the_fixture_holds_no_names(self):
        data = json.loads((FIXTURES / "typical-child.json").read_text(encoding="utf-8"))
        patient = data["entry"][0]["resource"]
        assert "name" not in patient and "telecom" not in patient and "address" not in patient


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["resourceType", "id", "status", "code", "valueQuantity", "subject",
                                        "effectiveDateTime", "entry", "type", "contained"]), JSON, max_size=6),
       st.sampled_from(["Observation", "Bundle", "Patient", None]))
def test_any_json_object_is_either_read_or_refused_with_invalid_input(data, kind):
    if kind is not None:
        data = {**data, "resourceType": kind}
    try:
        model = fhir.read_bundle(data) if kind == "Bundle" else fhir.read_resource(data)
        if kind == "Bundle":
            fhir.extract_bundle(model)
        else:
            fhir.extract(model, fallback_id="x")
    except InvalidInput as error:
        assert "\n" not in str(error) and error.code


def test_a_score_given_with_a_comparator_keeps_it():
    obs = {"resourceType": "Observation", "id": "mmt", "status": "final",
           "code": {"coding": [{"system": "urn:myocit:assessment", "code": "MMT8"}]},
           "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-11-30",
           "valueQuantity": {"value": 74, "comparator": "<"}}
    [fact] = fhir.extract(fhir.read_resource(obs)).facts
    assert (fact.score, fact.comparator) == (74.0, "<")
