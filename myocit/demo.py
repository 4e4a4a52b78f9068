"""``myocit demo``: sample children of two sites, sent the way a site's systems and people send them.

Each child's record is the synthetic record of ``demo_child.json`` made its own (its ids, its site) and
moved to today's dates. It goes in through the handlers behind ``POST /fhir`` and the pages, with
tokens of the roles the contract asks for (§13): a lab token posts the record, an investigator's token
the attestations, a coordinator records a refused consent, an investigator attests on the page. Each
child is screened in this process right after each message (the same handler a worker runs), so the
pages show screenings whether or not the service is running; alerts are handed to the workers as usual.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from ingest.submissions import bundle_items
from service import administration, judgements
from service.commands import (CreateToken, EvaluatePatient, RecordAttestation, RecordConsentDecision,
                              RecordMessage)
from service.evaluation import evaluate_patient
from service.intake import record_message
from store import views
from domain.identity import Caller
from store.tokens import authenticate

TEMPLATE = Path(__file__).with_name("demo_child.json")
TEMPLATE_DAY = date(2026, 12, 1)
"""The screening day the template's dates were written for; the demo moves them to today."""

SITES = ("necker", "robert-debre")
ROLES = ("coordinator", "investigator", "lab")
ATTESTATION_SYSTEM = "urn:myocit:criterion"
IDS = uuid.UUID("6f1c2a52-2f0e-4c59-9d55-0e8b1f6c7d10")
"""Namespace of the demo's entry UUIDs: the same child gets the same ids on every run."""
ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(.*)$")


class AlreadyLoaded(Exception):
    """The demo's children are already in this home."""


def _entries_where(record: dict, keep: Callable[[dict], bool]) -> list[dict]:
    return [entry for entry in record["entry"] if keep(entry["resource"])]


def low_neutrophils(record: dict) -> None:
    """Neutrophils 0.6 ×10⁹/L: below the protocol's 1, so the child is ineligible."""
    for entry in record["entry"]:
        if entry["resource"].get("id") == "obs-neut":
            entry["resource"]["valueQuantity"]["value"] = 0.6


def recent_live_vaccine(record: dict) -> None:
    """A varicella vaccine 12 days ago: excluded until its 28-day window ends, so the child waits."""
    given = (TEMPLATE_DAY - timedelta(days=12)).isoformat()
    patient = next(e["fullUrl"] for e in record["entry"] if e["resource"]["resourceType"] == "Patient")
    record["entry"].append({
        "fullUrl": "urn:uuid:2c0f3d55-9a4b-5b0e-8d1e-4c7a9f3b2e61",
        "resource": {"resourceType": "Immunization", "id": "imm-varicella", "status": "completed",
                     "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "21",
                                                 "display": "varicella"}]},
                     "patient": {"reference": patient},
                     "occurrenceDateTime": given},
        "request": {"method": "PUT", "url": "Immunization/imm-varicella"}})


@dataclass(frozen=True)
class Child:
    id: str
    """The screening id the pages show."""
    site: str
    expected: str
    """What a coordinator sees, in a few words."""
    change: Callable[[dict], None] | None = None
    attested: bool = True
    """Whether an investigator posts the template's attestations."""
    consent_refused: bool = False
    attested_on_page: tuple[str, ...] = ()


CHILDREN = (
    Child("necker-01", "necker", "eligible"),
    Child("necker-02", "necker", "incomplete: attestations to give", attested=False,
          attested_on_page=("INC-JDM-ENMC2018",)),
    Child("necker-03", "necker", "waiting: a live vaccine's window", change=recent_live_vaccine),
    Child("rdebre-01", "robert-debre", "eligible"),
    Child("rdebre-02", "robert-debre", "ineligible: neutrophils", change=low_neutrophils),
    Child("rdebre-03", "robert-debre", "ineligible: consent refused", consent_refused=True),
)


def shifted(value, days: int):
    """Every date and date-time of a FHIR document moved by ``days`` (times and offsets kept)."""
    if isinstance(value, dict):
        return {key: shifted(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [shifted(item, days) for item in value]
    if isinstance(value, str) and (found := ISO_DAY.match(value)):
        try:
            day = date.fromisoformat(found.group(1))
        except ValueError:
            return value
        return (day + timedelta(days=days)).isoformat() + found.group(2)
    return value


def record_of(child: Child, template: dict, today: date) -> dict:
    """The template made ``child``'s own: its Patient id, identifiers and site, entry ids and UUIDs of
    its own (so no two children share a resource), its change applied, its dates moved to ``today``."""
    record = copy.deepcopy(template)
    if child.change is not None:
        child.change(record)
    renamed = {entry["fullUrl"]: f"urn:uuid:{uuid.uuid5(IDS, child.id + entry['fullUrl'])}"
               for entry in record["entry"]}
    for entry in record["entry"]:
        resource = entry["resource"]
        entry["fullUrl"] = renamed[entry["fullUrl"]]
        if resource["resourceType"] == "Patient":
            resource["id"] = child.id
            resource["identifier"] = [
                {"system": f"urn:myocit:{child.site}:mrn", "value": child.id.upper()},
                {"system": "urn:myocit:screening", "value": child.id}]
            resource["managingOrganization"] = {"reference": f"Organization/{child.site}"}
        else:
            resource["id"] = f"{child.id}-{resource['id']}"
        entry["request"]["url"] = f"{resource['resourceType']}/{resource['id']}"
    text = json.dumps(record)
    for old, new in renamed.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    record = json.loads(text)
    record["id"] = child.id
    return shifted(record, (today - TEMPLATE_DAY).days)


def is_attestation(resource: dict) -> bool:
    return any(coding.get("system") == ATTESTATION_SYSTEM
               for coding in resource.get("code", {}).get("coding", []))


def split_by_sender(record: dict, child: Child) -> tuple[dict, dict]:
    """The lab's part (the Patient, results, history) and the investigator's (attestations, naming the
    child by its Patient id, since their Bundle does not carry the Patient)."""
    patient_url = next(e["fullUrl"] for e in record["entry"] if e["resource"]["resourceType"] == "Patient")
    lab = {**record, "entry": _entries_where(record, lambda r: not is_attestation(r))}
    judged = json.loads(json.dumps(_entries_where(record, is_attestation)).replace(
        f'"{patient_url}"', f'"Patient/{child.id}"'))
    return lab, {**record, "id": f"{child.id}-attestations", "entry": judged}


class EvaluatedHere:
    """The dispatcher of the demo: the children to screen are kept to be screened in this process;
    alerts go to the workers, as from any message."""

    def __init__(self, workers) -> None:
        self.waiting: list[int] = []
        self._workers = workers

    def evaluate(self, patient_pks: list[int], as_of: str | None = None) -> None:
        self.waiting.extend(patient_pks)

    def deliver(self, alert_pks: list[int]) -> None:
        self._workers.deliver(alert_pks)

    def notify(self, subscription_pks: list[int]) -> None:
        self._workers.notify(subscription_pks)


@dataclass
class Loaded:
    tokens: dict[tuple[str, str | None], str] = field(default_factory=dict)
    """(role, site) → token; the admin's site is None."""
    statuses: dict[str, str] = field(default_factory=dict)


def load_demo(rt, *, actor: str, say: Callable[[str], None] = lambda line: None) -> Loaded:
    """Create the demo's tokens, post its children and screen them. Raises ``AlreadyLoaded`` when the
    demo's first child is already registered here (nothing is done then)."""
    with rt.uow() as uow:
        taken = [c.id for c in CHILDREN if views.visible_patient(uow.session, Caller(actor, "admin"), c.id)]
    if taken:
        raise AlreadyLoaded(", ".join(taken))
    loaded = Loaded()
    loaded.tokens[("admin", None)] = administration.create_token(
        CreateToken("admin", (), "demo admin", actor), rt.uow(), clock=rt.clock)
    for site in SITES:
        for role in ROLES:
            loaded.tokens[(role, site)] = administration.create_token(
                CreateToken(role, (site,), f"demo {role} {site}", actor), rt.uow(), clock=rt.clock)
    say(f"tokens: an admin, and a lab, a coordinator and an investigator for each of {', '.join(SITES)}")
    with rt.uow() as uow:
        callers = {key: authenticate(uow.session, token) for key, token in loaded.tokens.items()}
    demo = _DemoRun(rt, callers)
    template = json.loads(TEMPLATE.read_text())
    for child in CHILDREN:
        status, steps = demo.load_child(child, template)
        loaded.statuses[child.id] = status
        say(f"{child.id} ({child.site}, {child.expected}): " + "; ".join(steps))
    rt.dispatch.flush()
    return loaded


class _DemoRun:
    """Posts one child after another through the intake handlers, each part by the token §13 asks for,
    and screens each child in this process right after."""

    def __init__(self, rt, callers: dict) -> None:
        self.rt = rt
        self.callers = callers
        self.dispatch = EvaluatedHere(rt.dispatch)
        self.today = rt.clock.today()

    def screened(self) -> str:
        status = "-"
        for pk in dict.fromkeys(self.dispatch.waiting):
            status = evaluate_patient(EvaluatePatient(pk, self.today), self.rt.uow(), protocols=self.rt.protocols,
                                      clock=self.rt.clock, dispatch=self.dispatch).status or status
        self.dispatch.waiting.clear()
        return status

    def post(self, bundle: dict, sender: Caller) -> str:
        raw = json.dumps(bundle, ensure_ascii=False)
        parsed = bundle_items(raw.encode("utf-8"), self.today, self.rt.protocol)
        record_message(RecordMessage(channel="fhir", content_type="application/fhir+json", body=raw, sender=sender,
                                     items=parsed.items, atomic=parsed.atomic), self.rt.uow(), clock=self.rt.clock,
                       dispatch=self.dispatch)
        return self.screened()

    def load_child(self, child: Child, template: dict) -> tuple[str, list[str]]:
        lab, attestations = split_by_sender(record_of(child, template, self.today), child)
        status = self.post(lab, self.callers[("lab", child.site)])
        steps = [f"{len(lab['entry'])} resources by the lab token: {status}"]
        if child.attested:
            status = self.post(attestations, self.callers[("investigator", child.site)])
            steps.append(f"{len(attestations['entry'])} attestations by the investigator's token: {status}")
        for criterion in child.attested_on_page:
            status = self.attest_on_page(child, criterion)
            steps.append(f"{criterion} attested on the page by the investigator: {status}")
        if child.consent_refused:
            judgements.record_consent_decision(
                RecordConsentDecision(child.id, "rejected", self.callers[("coordinator", child.site)]),
                self.rt.uow(), clock=self.rt.clock, dispatch=self.dispatch, protocol=self.rt.protocol)
            status = self.screened()
            steps.append(f"consent refused, recorded by the coordinator: {status}")
        return status, steps

    def attest_on_page(self, child: Child, criterion: str) -> str:
        judgements.record_attestation(
            RecordAttestation(child.id, criterion, "pass", "Demo: checked at the screening visit.",
                              self.callers[("investigator", child.site)]),
            self.rt.uow(), clock=self.rt.clock, dispatch=self.dispatch, protocol=self.rt.protocol)
        return self.screened()
