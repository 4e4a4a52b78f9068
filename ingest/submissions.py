"""From a submitted body (FHIR Bundle, one FHIR resource, HL7 v2) to the store's items: validation
first, so nothing invalid is half-stored.

Every intake path (FHIR Bundle, one FHIR resource, HL7 v2, the pages' forms) comes through here, so
the bounds of contract §13 hold on each of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import hl7

from ingest import fhir, hl7v2
from ingest.bounds import MAX_ID, MAX_IDENTIFIER, MAX_SOURCE, out_of_range_dates
from ingest.errors import InvalidHl7, InvalidInput
from ingest.items import Item, Registration, Subject

BUNDLE_TYPES = ("batch", "transaction", "collection")


@dataclass
class EntryOutcome:
    status: str
    location: str | None = None
    problem: str | None = None
    item: int | None = None
    """The index of this entry's item in ``ParsedBundle.items``, when it has one."""


@dataclass
class ParsedBundle:
    kind: str = "batch"
    items: list[Item] = field(default_factory=list)
    entries: list[EntryOutcome] = field(default_factory=list)

    @property
    def atomic(self) -> bool:
        """A transaction (or collection) is all-or-nothing; a batch is judged entry by entry."""
        return self.kind != "batch"


def _subjects(ref) -> tuple[Subject, ...]:
    if ref is None:
        return ()
    return (Subject("id" if ref.kind == "id" else "ident", ref.value, getattr(ref, "system", None)),)


def _check_bounds(extracted, where: str, received_on: date) -> None:
    """Contract §13: dates within 1900-2200, no birth after the day of receipt, names that fit."""
    if len(extracted.source) > MAX_SOURCE or len(extracted.resource_id) > MAX_ID:
        raise InvalidInput(f"{where}: the resource id is longer than {MAX_ID} characters", code="value",
                           location=where)
    for fact in extracted.facts:
        bad = out_of_range_dates(fact)
        if bad:
            raise InvalidInput(f"{where} ({extracted.source}): a date is before 1900 or after 2200",
                               code="value", location=where)
    profile = extracted.profile
    if profile is not None and profile.birth_date is not None:
        if profile.birth_date.year < 1900 or profile.birth_date > received_on:
            raise InvalidInput(f"{where} ({extracted.source}): birthDate is before 1900 or after the day "
                               "it is received", code="value", location=f"{where}.birthDate")
    if extracted.site is not None and len(extracted.site) > MAX_ID:
        raise InvalidInput(f"{where}: managingOrganization names a site longer than {MAX_ID} characters",
                           code="value", location=f"{where}.managingOrganization")
    subject = extracted.subject
    if subject is not None and (len(subject.value) > MAX_IDENTIFIER or len(subject.system or "") > MAX_IDENTIFIER):
        raise InvalidInput(f"{where}: the subject's reference or identifier is longer than {MAX_IDENTIFIER} "
                           "characters", code="value", location=where)
    for system, value in extracted.identifiers:
        if len(value) > MAX_IDENTIFIER or len(system or "") > MAX_IDENTIFIER:
            raise InvalidInput(f"{where}: an identifier is longer than {MAX_IDENTIFIER} characters",
                               code="value", location=f"{where}.identifier")


def _check_subject(extracted, where: str) -> None:
    if extracted.resource_type in fhir.SUPPORTED_TYPES and extracted.resource_type != "Patient" \
            and extracted.subject is None:
        raise InvalidInput(f"{where} ({extracted.source}): no subject: name the patient in subject.reference "
                           "(Patient/{{id}}) or subject.identifier", code="required", location=where)
    if extracted.subject is not None and extracted.subject.dangling:
        raise InvalidInput(f"{where} ({extracted.source}): subject.reference is a bundle-local urn that names "
                           "no Patient of this bundle", code="not-found", location=f"{where}.subject")


def to_item(extracted) -> Item:
    registration = None
    if extracted.profile is not None:
        registration = Registration(extracted.resource_id, extracted.profile,
                                    tuple((s or None, v) for s, v in extracted.identifiers), extracted.site)
    return Item(_subjects(extracted.subject), list(extracted.facts), registration)


def _checked(extracted, where: str, received_on: date) -> Item:
    _check_subject(extracted, where)
    _check_bounds(extracted, where, received_on)
    return to_item(extracted)


def bundle_items(raw: bytes, received_on: date, protocol=None) -> ParsedBundle:
    return _bundle_items(fhir.parse_json(raw), received_on, protocol)


def _bundle_items(data: dict, received_on: date, protocol) -> ParsedBundle:
    if data.get("resourceType") != "Bundle":
        raise InvalidInput("expected a Bundle", code="structure", location="resourceType")
    kind = data.get("type")
    if kind not in BUNDLE_TYPES:
        raise InvalidInput(f"Bundle.type is not accepted here (use {', '.join(BUNDLE_TYPES)})",
                           code="not-supported", location="Bundle.type")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput("Bundle.entry must be a list", code="structure", location="Bundle.entry")
    parsed = ParsedBundle(kind)
    try:
        extracted = fhir.extract_bundle(fhir.read_bundle(data), protocol=protocol)
        parsed.entries = [EntryOutcome("202 Accepted") for _ in entries]
    except InvalidInput:
        # A transaction (or collection) is all-or-nothing; a batch is judged entry by entry, which
        # costs a second validation, paid only when something is wrong.
        if parsed.atomic:
            raise
        valid: list[dict] = []
        for index, entry in enumerate(entries):
            try:
                fhir.extract_bundle(fhir.read_bundle({**data, "entry": [entry]}))
            except InvalidInput as exc:
                parsed.entries.append(EntryOutcome("400 Bad Request", problem=f"entry {index}: {exc}"))
                continue
            valid.append(entry)
            parsed.entries.append(EntryOutcome("202 Accepted"))
        extracted = fhir.extract_bundle(fhir.read_bundle({**data, "entry": valid}), protocol=protocol)
    accepted = [e for e in parsed.entries if e.problem is None]
    for outcome, item in zip(accepted, extracted):
        outcome.location = item.source
    for index, item in enumerate(extracted):
        try:
            checked = _checked(item, f"Bundle.entry[{index}]", received_on)
        except InvalidInput as exc:
            if parsed.atomic:
                raise
            accepted[index].status, accepted[index].problem = "400 Bad Request", str(exc)
            continue
        accepted[index].item = len(parsed.items)
        parsed.items.append(checked)
    return parsed


def resource_items(raw: bytes, resource_type: str, received_on: date, protocol=None) -> tuple[list[Item], str]:
    return _resource_items(fhir.parse_json(raw), resource_type, received_on, protocol)


def _resource_items(data: dict, resource_type: str, received_on: date, protocol) -> tuple[list[Item], str]:
    if data.get("resourceType") != resource_type:
        raise InvalidInput("the body's resourceType is not the one the URL names", code="invalid",
                           location="resourceType")
    if resource_type == "Bundle":
        raise InvalidInput("post Bundles to /fhir", code="not-supported", location="resourceType")
    model = fhir.read_resource(data)
    extracted = fhir.extract(model, protocol=protocol)
    return [_checked(extracted, resource_type, received_on)], extracted.source


def document_items(raw: bytes, received_on: date, protocol=None, *, bundles: bool = True) -> ParsedBundle:
    """A JSON document that is not posted to a route naming its kind (a stored message read again, a file
    or NDJSON line of an initial load), parsed once: a Bundle as ``POST /fhir`` takes it (``bundles``
    False: refused, as ``POST /fhir/{type}`` refuses one), else one resource as ``POST /fhir/{type}``
    does, all or nothing."""
    data = fhir.parse_json(raw)
    kind = data.get("resourceType")
    if bundles and kind == "Bundle":
        return _bundle_items(data, received_on, protocol)
    if not isinstance(kind, str):
        raise InvalidInput("resourceType is missing", code="required", location="resourceType")
    items, location = _resource_items(data, kind, received_on, protocol)
    return ParsedBundle("transaction", items, [EntryOutcome("202 Accepted", location, item=0)])


def hl7_items(message: hl7.Message | str, *, authorities: dict[str, str], max_results: int
              ) -> tuple[list[Item], str]:
    """(items, control id) of one message, parsed (as ``service.hl7`` passes it, read once) or its text.
    PID-3: every repetition names the child; a repetition whose assigning authority (PID-3.4) is mapped
    in ``authorities`` names an identifier system."""
    extract = hl7v2.extract_oru(message, revision=0, max_results=max_results)
    mapped, unmapped = [], []
    for authority, value in extract.identifiers:
        system = authorities.get(authority) if authority else None
        if len(value) > MAX_IDENTIFIER:
            raise InvalidHl7(f"PID-3: an identifier is longer than {MAX_IDENTIFIER} characters",
                             error_code=102, location="PID^1^3")
        (mapped if system else unmapped).append(Subject("ident", value, system))
    subjects = tuple(dict.fromkeys(mapped + unmapped))
    for fact in extract.facts:
        if len(fact.source) > MAX_SOURCE:
            raise InvalidHl7(f"a result's name (facility, order, code) is longer than {MAX_SOURCE} characters",
                             error_code=102, location="OBR^1^3")
    return [Item(subjects, list(extract.facts))], extract.control_id
