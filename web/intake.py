"""From a request body to the store's items: validation first, so nothing invalid is half-stored."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ingest import fhir, hl7v2
from ingest.errors import InvalidInput
from store.intake import Item, Registration, Subject

BUNDLE_TYPES = ("batch", "transaction", "collection")


@dataclass
class EntryOutcome:
    status: str
    location: str | None = None
    problem: str | None = None


@dataclass
class ParsedBundle:
    items: list[Item] = field(default_factory=list)
    entries: list[EntryOutcome] = field(default_factory=list)


def _subject(ref) -> Subject | None:
    if ref is None:
        return None
    return Subject(ref.kind, ref.value, getattr(ref, "system", None))


def arrival_revision() -> int:
    """Revisions grow with arrival: a resource posted again (amended, corrected, retracted) replaces
    the earlier version; entries of one bundle keep their order below it."""
    return time.time_ns() // 1000 * 1000


def _revised(facts, base: int) -> list:
    return [replace(f, revision=base + f.revision) for f in facts]


def to_item(extracted, base: int = 0) -> Item:
    registration = None
    if extracted.profile is not None:
        registration = Registration(
            extracted.resource_id, extracted.profile, tuple((s or "", v) for s, v in extracted.identifiers)
        )
    return Item(_subject(extracted.subject), _revised(extracted.facts, base), registration)


def _check_subject(extracted, where: str) -> None:
    if extracted.resource_type in fhir.SUPPORTED_TYPES and extracted.resource_type != "Patient" \
            and extracted.subject is None:
        raise InvalidInput(f"{where} ({extracted.source}): no subject: name the patient in subject.reference "
                           "(Patient/{{id}}) or subject.identifier", code="required", location=where)


def bundle_items(raw: bytes) -> ParsedBundle:
    data = fhir.parse_json(raw)
    if data.get("resourceType") != "Bundle":
        raise InvalidInput(f"expected a Bundle, got {data.get('resourceType')!r}", code="structure",
                           location="resourceType")
    kind = data.get("type")
    if kind not in BUNDLE_TYPES:
        raise InvalidInput(f"Bundle.type {kind!r} is not accepted here (use {', '.join(BUNDLE_TYPES)})",
                           code="not-supported", location="Bundle.type")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput("Bundle.entry must be a list", code="structure", location="Bundle.entry")
    parsed = ParsedBundle()
    try:
        extracted = fhir.extract_bundle(fhir.read_bundle(data))
        parsed.entries = [EntryOutcome("202 Accepted") for _ in entries]
    except InvalidInput:
        # A transaction (or collection) is all-or-nothing; a batch is judged entry by entry, which
        # costs a second validation, paid only when something is wrong.
        if kind != "batch":
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
        extracted = fhir.extract_bundle(fhir.read_bundle({**data, "entry": valid}))
    base = arrival_revision()
    accepted = [e for e in parsed.entries if e.problem is None]
    for outcome, item in zip(accepted, extracted):
        outcome.location = item.source
    for index, item in enumerate(extracted):
        try:
            _check_subject(item, f"Bundle.entry[{index}]")
        except InvalidInput as exc:
            if kind != "batch":
                raise
            accepted[index].status, accepted[index].problem = "400 Bad Request", str(exc)
            continue
        parsed.items.append(to_item(item, base))
    return parsed


def resource_items(raw: bytes, resource_type: str) -> tuple[list[Item], str]:
    data = fhir.parse_json(raw)
    if data.get("resourceType") != resource_type:
        raise InvalidInput(f"the body is a {data.get('resourceType')!r}, the URL says {resource_type!r}",
                           code="invalid", location="resourceType")
    if resource_type == "Bundle":
        raise InvalidInput("post Bundles to /fhir", code="not-supported", location="resourceType")
    model = fhir.read_resource(data)
    extracted = fhir.extract(model)
    _check_subject(extracted, resource_type)
    return [to_item(extracted, arrival_revision())], extracted.source


def hl7_items(text: str):
    message = hl7v2.parse_message(text)
    extract = hl7v2.extract_oru(text, revision=0)
    item = Item(_subject(extract.subject), _revised(extract.facts, arrival_revision()))
    return message, [item], extract.control_id
