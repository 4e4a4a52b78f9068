"""FHIR R4 resources for tests, written the way the contract's data profile says (§2)."""

from __future__ import annotations

from datetime import date
from itertools import count

from domain.criteria import CRITERIA

LOINC = "http://loinc.org"
CRITERION = "urn:myocit:criterion"
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
    obs = _obs(pid, {"system": CRITERION, "code": criterion}, day, None)
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


def corticosteroid(pid: str, atc: str, mg_per_day: float, started: str) -> dict:
    """A systemic corticosteroid taken once a day from ``started`` (EXC-PRIOR-CS reads the first start)."""
    return {"resourceType": "MedicationStatement", "id": f"med-{next(_ids)}", "status": "active",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": atc}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectivePeriod": {"start": started},
            "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                        "doseAndRate": [{"doseQuantity": {"value": mg_per_day, "unit": "mg", "code": "mg",
                                                          "system": "http://unitsofmeasure.org"}}]}]}


def is_attestation(resource: dict) -> bool:
    """An investigator's judgement: an Observation whose code is in ``urn:myocit:criterion``."""
    return resource.get("resourceType") == "Observation" and any(
        coding.get("system") == CRITERION for coding in (resource.get("code") or {}).get("coding") or [])


def lab_part(resources: list[dict]) -> list[dict]:
    """What a lab's token may post of a record (contract §13): everything but the attestations."""
    return [r for r in resources if not is_attestation(r)]


def attestations_part(resources: list[dict]) -> list[dict]:
    """What only an investigator's token may post of a record (contract §13): the attestations."""
    return [r for r in resources if is_attestation(r)]


def bundle_parts(data: dict) -> tuple[dict, dict]:
    """A complete Bundle (tests/fixtures/typical-child.json) as (the lab's Bundle, the investigator's
    Bundle of attestations), each of the original type. An attestation naming its subject by the
    fullUrl of an entry left in the lab's Bundle names it by ``Type/id`` instead."""
    local = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
             for e in data.get("entry", []) if e.get("fullUrl") and e.get("resource", {}).get("id")}
    lab, attested = [], []
    for entry in data.get("entry", []):
        if not is_attestation(entry.get("resource", {})):
            lab.append(entry)
            continue
        resource = dict(entry["resource"])
        reference = (resource.get("subject") or {}).get("reference")
        if reference in local:
            resource["subject"] = {"reference": local[reference]}
        attested.append({**entry, "resource": resource})
    return {**data, "entry": lab}, {**data, "id": f"{data.get('id', 'bundle')}-attestations",
                                    "entry": attested}


def site_of(resources: list[dict], default: str = "site-a") -> str:
    """The site of the record's Patient (managingOrganization), else ``default``."""
    for r in resources:
        if r.get("resourceType") == "Patient":
            reference = (r.get("managingOrganization") or {}).get("reference", "")
            if reference.startswith("Organization/"):
                return reference.removeprefix("Organization/")
    return default


def post_parts(client, lab: dict, investigator: dict, resources: list[dict], *, kind: str = "transaction",
               url: str = "/fhir"):
    """Post a record as its senders do (contract §13): the attestations with ``investigator``'s
    headers (one transaction, which must be accepted), then the rest with ``lab``'s, as one ``kind``
    Bundle; returns the lab's response. ``client`` is anything with ``post(url, json=, headers=)``.

    The attestations go first: while the child is not registered they are kept for it and joined
    to its record when the Patient arrives, so the lab's post is still the one that asks for an
    evaluation, as the complete record did before attestations needed an investigator."""
    attested = attestations_part(resources)
    if attested:
        response = client.post(url, json=bundle(attested), headers=investigator)
        assert response.status_code == 202, response.text
    return client.post(url, json=bundle(lab_part(resources), kind), headers=lab)


def eligible_record(pid: str, day: date, *, site: str = "site-a", with_cmv: bool = True) -> list[dict]:
    """Everything a boy of 10 needs for all 34 criteria to pass on ``day``, attestations included
    (offline ``myocit screen`` reads complete records); over HTTP, post it with ``post_parts``: a
    lab posts ``lab_part``, an investigator ``attestations_part`` (contract §13)."""
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
