"""FHIR R4 resources for tests, written the way the contract's data profile says (§2)."""

from __future__ import annotations

from datetime import date
from itertools import count

from domain.criteria import CRITERIA

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
_ids = count(1)


def patient(pid: str, *, birth: str = "2016-05-04", gender: str = "male", site: str = "site-a",
            mrn: str | None = None) -> dict:
    resource = {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": gender,
                "managingOrganization": {"reference": f"Organization/{site}"}}
    if mrn:
        resource["identifier"] = [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": mrn}]
    return resource


def _obs(pid: str, code: dict, day: str, oid: str | None, status: str = "final") -> dict:
    return {"resourceType": "Observation", "id": oid or f"obs-{next(_ids)}", "status": status,
            "code": {"coding": [code]}, "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": day}


def quantity(pid: str, loinc: str, value: float, unit: str, day: str, *, oid: str | None = None,
             status: str = "final") -> dict:
    obs = _obs(pid, {"system": LOINC, "code": loinc}, day, oid, status)
    obs["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    return obs


def coded(pid: str, loinc: str, snomed: str, day: str, *, oid: str | None = None, status: str = "final") -> dict:
    obs = _obs(pid, {"system": LOINC, "code": loinc}, day, oid, status)
    obs["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": snomed}]}
    return obs


DETECTED, NOT_DETECTED, POSITIVE, NEGATIVE = "260373001", "260415000", "10828004", "260385009"


def assessment(pid: str, code: str, value: int, day: str) -> dict:
    obs = _obs(pid, {"system": "urn:myocit:assessment", "code": code}, day, None)
    obs["valueInteger"] = value
    return obs


def attestation(pid: str, criterion: str, verdict: str, day: str) -> dict:
    obs = _obs(pid, {"system": "urn:myocit:criterion", "code": criterion}, day, None)
    obs["valueCodeableConcept"] = {"coding": [{"system": "urn:myocit:verdict", "code": verdict}]}
    obs["performer"] = [{"reference": "Practitioner/inv-1"}]
    return obs


def consent(pid: str, day: str, status: str = "active") -> dict:
    return {"resourceType": "Consent", "id": f"consent-{next(_ids)}", "status": status,
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
            "category": [{"coding": [{"system": LOINC, "code": "57016-8"}]}],
            "patient": {"reference": f"Patient/{pid}"}, "dateTime": day}


def coverage(pid: str, kind: str = "social-security") -> dict:
    return {"resourceType": "Coverage", "id": f"cov-{next(_ids)}", "status": "active",
            "type": {"coding": [{"system": "urn:myocit:coverage", "code": kind}]},
            "beneficiary": {"reference": f"Patient/{pid}"},
            "payor": [{"display": "Assurance Maladie"}]}


def immunization(pid: str, cvx: str, day: str) -> dict:
    return {"resourceType": "Immunization", "id": f"imm-{next(_ids)}", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx}]},
            "patient": {"reference": f"Patient/{pid}"}, "occurrenceDateTime": day}


def eligible_record(pid: str, day: date, *, site: str = "site-a", with_cmv: bool = True) -> list[dict]:
    """Everything a boy of 10 needs for all 34 criteria to pass on ``day``."""
    d = day.isoformat()
    resources = [
        patient(pid, birth=f"{day.year - 10}-01-15", site=site),
        assessment(pid, "MMT8", 60, d),
        coded(pid, "19162-7", POSITIVE, d),
        consent(pid, d),
        coverage(pid),
        quantity(pid, "14682-9", 45, "umol/L", d),
        quantity(pid, "8302-2", 140, "cm", d),
        quantity(pid, "26474-7", 1.8, "G/L", d),
        quantity(pid, "26499-4", 4.2, "G/L", d),
        quantity(pid, "718-7", 12.1, "g/dL", d),
        coded(pid, "3282-1", NEGATIVE, d),
        coded(pid, "3181-5", NEGATIVE, d),
        coded(pid, "44448-9", NEGATIVE, d),
        coded(pid, "5196-1", NEGATIVE, d),
        coded(pid, "13955-0", NEGATIVE, d),
        coded(pid, "56888-1", NEGATIVE, d),
        coded(pid, "71773-6", NEGATIVE, d),
    ]
    if with_cmv:
        resources.append(coded(pid, "4996-5", NOT_DETECTED, d))
    resources += [attestation(pid, c.id, "pass", d) for c in CRITERIA if c.attested]
    return resources


def bundle(resources: list[dict], kind: str = "transaction") -> dict:
    entries = []
    for r in resources:
        entry = {"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r}
        if kind in ("transaction", "batch"):
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}
