"""FHIR R4 JSON in, domain facts out (contract §2).

Reading is strict (the ``fhir.resources`` R4B models, plus checks they leave out: a known
``resourceType`` everywhere, Bundle.type, status codes); mapping is lenient: codes the protocol does
not use are kept, with a warning, and the protocol decides what they are. The resources of the data
profile are read first by ``ingest/fhir_fast.py`` (msgspec), a strict subset of the R4B models that
gives the mapping the same values; what it does not read goes to the R4B models, whose verdict and
messages are the ones given.

Revisions: ``extract`` gives every fact the caller's ``revision`` (the store passes its arrival
sequence, so a later amended/corrected/retracted version of a resource replaces the earlier one).
``extract_bundle`` uses, per entry, the entry's index, so a later entry of the same resource
supersedes an earlier one. ``meta.versionId`` is never used: versions are ordered as they were
received, never by a number the sender controls (contract §13).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from domain.facts import PatientProfile
from ingest import fhir_fast
from ingest.bounds import MAX_JSON_DEPTH, contains_nul, json_depth_exceeds
from ingest.errors import InvalidInput
from ingest.fhir_mapping import MAPPERS, MappingContext, patient_identifiers
from ingest.fhir_values import reference_key

SUPPORTED_TYPES = frozenset({
    "Patient", "Observation", "DiagnosticReport", "Condition", "MedicationStatement",
    "MedicationRequest", "MedicationAdministration", "Immunization", "Consent", "Coverage",
})
OFFLINE_BUNDLE_TYPES = frozenset({"collection", "batch", "transaction", "searchset", "document"})
SUBMISSION_BUNDLE_TYPES = frozenset({"collection", "batch", "transaction"})


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Whom a resource is about: a Patient id, or an identifier (``system`` None = any system)."""

    kind: str  # 'id' | 'identifier'
    value: str
    system: str | None = None
    dangling: bool = False
    """A bundle-local reference (``urn:uuid:``, ``urn:oid:``) naming no Patient of its bundle: a patient
    that can never exist, so the resource is refused rather than kept waiting for it."""


@dataclass(slots=True)
class Extracted:
    resource_type: str
    resource_id: str
    source: str
    subject: SubjectRef | None = None
    facts: list = field(default_factory=list)
    profile: PatientProfile | None = None
    identifiers: list[tuple[str | None, str]] = field(default_factory=list)
    site: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        """False for resource types that give no facts (accepted and reported as ignored)."""
        return self.resource_type in SUPPORTED_TYPES


# --- reading ---------------------------------------------------------------------------------------


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str | bytes) -> dict:
    """The JSON object in ``text`` (UTF-8, a BOM allowed); InvalidInput when it is not one."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"not UTF-8 text (byte {exc.start})", code="structure") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InvalidInput("empty input: expected a JSON object", code="structure")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", code="structure"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"not valid JSON: {exc if isinstance(exc, ValueError) else 'nested too deeply'}",
                           code="structure") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"expected a JSON object, got {_json_type(data)}", code="structure")
    if json_depth_exceeds(data):
        raise InvalidInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", code="structure")
    # Raw control characters are not JSON; a NUL can only come escaped, so only then is the data walked.
    if "\\u0000" in text and contains_nul(data):
        raise InvalidInput("a string holds a NUL character (\\u0000), which cannot be stored", code="value")
    return data


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _model_class(resource_type: Any, where: str, location: str) -> type:
    if not isinstance(resource_type, str) or not resource_type:
        raise InvalidInput(f"{where}: resourceType is missing", code="required", location=location)
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        raise InvalidInput(f"{where}: unknown resourceType", code="not-supported",
                           location=location) from None


def _check_types(data: dict, where: str, location: str) -> None:
    """Every resource (and contained resource) names a known type: the models do not check it."""
    _model_class(data.get("resourceType"), where, f"{location}.resourceType")
    contained = data.get("contained")
    if isinstance(contained, list):
        for i, inner in enumerate(contained):
            if not isinstance(inner, dict):
                raise InvalidInput(f"{where}: contained[{i}]: expected an object", code="structure",
                                   location=f"{location}.contained[{i}]")
            _check_types(inner, f"{where}: contained[{i}]", f"{location}.contained[{i}]")


_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _known_type(name: Any) -> bool:
    if not isinstance(name, str) or not name.isalpha():
        return False
    try:
        get_fhir_model_class(name)
    except (KeyError, ValueError):
        return False
    return True


def _label(data: Any) -> str:
    """``Type/id`` for messages: only a known type and an id of FHIR's form are shown, since anything
    else could be a value the sender put in the wrong place (a name, a record number)."""
    if not isinstance(data, dict):
        return "resource"
    kind = data.get("resourceType") if _known_type(data.get("resourceType")) else "resource"
    rid = data.get("id")
    return f"{kind}/{rid}" if isinstance(rid, str) and _FHIR_ID.match(rid) else kind


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum():
            out += ("." if out else "") + ("resourceType" if part == "resource_type" else part)
    return out


def _explain(error: dict) -> tuple[str, str]:
    """(short message, issue code) for one pydantic error, never echoing the input value."""
    kind = error.get("type", "")
    msg = str(error.get("msg", "")).split("[type=")[0]
    low = msg.lower()
    if kind in ("missing", "model_field_validation.missing") or "is required" in low:
        return "required element is missing", "required"
    if kind == "extra_forbidden":
        return "unknown element", "structure"
    if kind == "fhir-validation-wrong-resource-type":
        ctx = error.get("ctx") or {}
        return f"expected resourceType {ctx.get('expected_resource_type', '?')}", "structure"
    if "expect any of field value from this list" in low:
        # A choice element that must be given ([1..1] x[x]); its names can be told, never the input.
        names = re.findall(r"'([A-Za-z]+)'", msg)
        return f"required element is missing: one of {', '.join(names)}" if names else \
            "required element is missing", "required"
    if "decimal" in low or kind in ("float_parsing", "int_parsing", "decimal_parsing", "int_from_float"):
        return "not a number", "value"
    if "datetime" in low or "date" in low or "time" in low:
        if "outside expected range" in low or "out of range" in low:
            return "not a valid date (no such day)", "value"
        if "datetime" in low:
            return "not a valid dateTime (a time needs a time zone offset)", "value"
        return "not a valid date", "value"
    if kind == "bool_parsing":
        return "not true or false", "value"
    if kind in ("dict_type", "model_type", "json_invalid", "model_attributes_type"):
        return "expected an object", "structure"
    if kind in ("list_type",):
        return "expected an array", "structure"
    if kind in ("string_type",):
        return "expected a string", "structure"
    if "got multiple" in low:
        return "more than one value[x] element", "structure"
    clean = msg.replace("Value error, ", "").strip().rstrip(".")
    return clean or kind or "invalid", "value"


def _from_validation(exc: ValidationError, data: dict, *, bundle: bool, within: tuple = ()) -> InvalidInput:
    errors = exc.errors()
    first = errors[0]
    loc = within + tuple(first.get("loc", ()))
    text, code = _explain(first)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if bundle and len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        index = loc[1]
        raw = data.get("entry", [])[index].get("resource") if isinstance(data.get("entry"), list) else None
        inner = _path(loc[3:])
        where = f"entry {index} ({_label(raw)})"
        location = f"Bundle.entry[{index}].resource" + (f".{inner}" if inner else "")
        return InvalidInput(f"{where}: {inner + ': ' if inner else ''}{text}{more}", code=code,
                            location=location)
    kind = "Bundle" if bundle else str(data.get("resourceType"))
    inner = _path(loc)
    location = kind + (f".{inner}" if inner else "")
    where = "Bundle" if bundle else _label(data)
    return InvalidInput(f"{where}: {inner + ': ' if inner else ''}{text}{more}", code=code, location=location)


def read_resource(data: dict) -> Any:
    """The validated model of one resource (any type): ``fhir_fast``'s, else the R4B one; InvalidInput
    when it is not valid."""
    if not isinstance(data, dict):
        raise InvalidInput(f"expected a JSON object, got {_json_type(data)}", code="structure")
    _check_types(data, _label(data), str(data.get("resourceType") or "Resource"))
    fast = fhir_fast.read(data)
    if fast is not None:
        return fast
    model = get_fhir_model_class(data["resourceType"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(exc, data, bundle=False) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{_label(data)}: not a valid resource ({type(exc).__name__})",
                           code="structure") from None


def read_bundle(data: dict, *, types: frozenset[str] = OFFLINE_BUNDLE_TYPES) -> Any:
    """The validated Bundle (``fhir_fast``'s, else R4B; each resource likewise); its ``type`` must be
    one of ``types`` (offline screening: collection, batch, transaction, searchset, document; the HTTP
    layer passes ``SUBMISSION_BUNDLE_TYPES``)."""
    entries = _bundle_entries(data, types)
    # The Bundle without its resources, then each resource with its own model: the same checks as
    # validating the Bundle whole, at about two thirds of the cost (the whole Bundle's polymorphic
    # ``entry.resource`` field is the expensive part).
    shell = {**data, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]} \
        if entries else data
    # The fast path (ingest/fhir_fast.py) reads the shell and each resource it models; whatever it
    # leaves goes to fhir.resources, in the same order, so the first error is the one it reports.
    model = _bundle_shell(shell, data)
    resources = _entry_resources(entries, data)
    fast_shell = isinstance(model, fhir_fast.Bundle)
    for i, resource in resources.items():
        if fast_shell:
            model.entry[i].resource = resource
        else:
            # Attached as validated; assigning through the model would validate each resource again.
            model.entry[i].__dict__["resource"] = resource
    return model


def _bundle_entries(data: Any, types: frozenset[str]) -> list:
    """The entries of a Bundle of one of ``types``, each an object whose resource, if any, is an
    object of the right JSON types; InvalidInput at the first thing that is not."""
    if not isinstance(data, dict):
        raise InvalidInput(f"expected a JSON object, got {_json_type(data)}", code="structure")
    kind = data.get("resourceType")
    if kind != "Bundle":
        shown = kind[:40] if isinstance(kind, str) else "none"
        raise InvalidInput("expected a Bundle" + (f", got resourceType {shown}" if _known_type(shown) else ""),
                           code="structure",
                           location="Bundle.resourceType")
    btype = data.get("type")
    if not isinstance(btype, str) or not btype:
        raise InvalidInput("Bundle: type is missing", code="required", location="Bundle.type")
    if btype not in types:
        allowed = ", ".join(sorted(types))
        raise InvalidInput(f"Bundle: type is not one accepted here ({allowed})",
                           code="not-supported", location="Bundle.type")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise InvalidInput("Bundle: entry: expected an array", code="structure", location="Bundle.entry")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidInput(f"entry {i}: expected an object", code="structure",
                               location=f"Bundle.entry[{i}]")
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict):
            raise InvalidInput(f"entry {i}: resource: expected an object", code="structure",
                               location=f"Bundle.entry[{i}].resource")
        _check_types(resource, f"entry {i} ({_label(resource)})", f"Bundle.entry[{i}].resource")
    return entries


def _bundle_shell(shell: dict, data: dict) -> Any:
    """The Bundle without its entries' resources, by the fast model, else by R4B's."""
    model = fhir_fast.read_bundle_shell(shell)
    if model is not None:
        return model
    try:
        return get_fhir_model_class("Bundle").model_validate(shell)
    except ValidationError as exc:
        raise _from_validation(exc, data, bundle=True) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"Bundle: not a valid bundle ({type(exc).__name__})",
                           code="structure") from None


def _entry_resources(entries: list, data: dict) -> dict[int, Any]:
    """Each entry's resource by the entry's index, read by its fast model, else by R4B's."""
    resources = {}
    for i, entry in enumerate(entries):
        resource = entry.get("resource")
        if resource is None:
            continue
        fast = fhir_fast.read(resource)
        if fast is not None:
            resources[i] = fast
            continue
        try:
            resources[i] = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except ValidationError as exc:
            raise _from_validation(exc, data, bundle=True, within=("entry", i, "resource")) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"entry {i} ({_label(resource)}): not a valid resource ({type(exc).__name__})",
                               code="structure", location=f"Bundle.entry[{i}].resource") from None
    return resources


# --- extraction ------------------------------------------------------------------------------------


def _contained_index(resource: Any) -> dict[str, Any]:
    return {f"#{c.id}": c for c in (getattr(resource, "contained", None) or ()) if getattr(c, "id", None)}


class _BundleIndex:
    """The resources of one bundle by fullUrl and by ``Type/id`` (an entry without id: its fallback)."""

    def __init__(self) -> None:
        self.refs: dict[str, Any] = {}
        self.ids: dict[int, str] = {}

    def add(self, resource: Any, rid: str, full_url: str | None) -> None:
        if not resource.id:
            self.ids[id(resource)] = rid
        if full_url:
            self.refs[full_url.strip()] = resource
        self.refs[f"{resource.get_resource_type()}/{rid}"] = resource

    def get(self, reference: str) -> Any:
        return self.refs.get(reference.strip()) or self.refs.get(reference_key(reference))

    def id_of(self, resource: Any) -> str | None:
        return resource.id or self.ids.get(id(resource))


def _make_resolver(resource: Any, index: _BundleIndex | None) -> Callable[[str | None], Any]:
    contained = _contained_index(resource)

    def resolve(reference: str | None) -> Any:
        if not reference:
            return None
        if reference.startswith("#"):
            return contained.get(reference)
        return index.get(reference) if index is not None else None

    return resolve


def extract(resource: Any, *, revision: int = 0, fallback_id: str | None = None, protocol: Any = None,
            _index: _BundleIndex | None = None, _retracted: dict[str, str] | None = None,
            _parents: dict[str, Any] | None = None) -> Extracted:
    """The facts one resource gives. ``fallback_id`` names a resource without ``id`` (e.g. the
    entry's fullUrl); ``protocol``, the one in force, tells which codes no criterion uses (a warning);
    InvalidInput for codes and statuses the contract cannot read."""
    kind = resource.get_resource_type()
    rid = getattr(resource, "id", None) or fallback_id
    if not rid:
        raise InvalidInput(f"{kind}: no id", code="required", location=f"{kind}.id")
    out = Extracted(kind, rid, f"{kind}/{rid}")
    mapper = MAPPERS.get(kind)
    if mapper is None:
        return out
    ctx = MappingContext(
        source=out.source,
        revision=revision,
        resolve=_make_resolver(resource, _index),
        warnings=out.warnings,
        retracted=(_retracted or {}).get(out.source),
        parents=(_parents or {}).get(out.source, ()),
        protocol=protocol,
    )
    result = mapper(resource, ctx)
    out.facts = result.facts
    out.profile = result.profile
    out.site = result.site
    out.identifiers = result.identifiers
    out.subject = _subject(result.subject, ctx, _index, out)
    return out


def _subject(ref: Any, ctx: MappingContext, index: _BundleIndex | None, out: Extracted) -> SubjectRef | None:
    if out.resource_type == "Patient":
        return SubjectRef("id", out.resource_id)
    if ref is None:
        return None
    if ref.reference:
        target = ctx.resolve(ref.reference)
        if target is not None and target.get_resource_type() == "Patient":
            return SubjectRef("id", (index.id_of(target) if index else target.id) or ref.reference)
        key = reference_key(ref.reference)
        if key.startswith("Patient?"):
            for part in key.split("?", 1)[1].split("&"):
                name, _, value = part.partition("=")
                if name == "identifier" and value:
                    system, bar, val = value.rpartition("|")
                    return SubjectRef("identifier", val, system or None) if bar else SubjectRef(
                        "identifier", value, None)
        if key.startswith("Patient/"):
            return SubjectRef("id", key.split("/", 1)[1])
        if key.startswith("urn:"):
            return SubjectRef("id", key, dangling=True)
        out.warnings.append(f"{out.source}: subject {key.split('/')[0][:40]} is not a Patient")
        return None
    if ref.identifier is not None and ref.identifier.value:
        return SubjectRef("identifier", ref.identifier.value, ref.identifier.system)
    out.warnings.append(f"{out.source}: subject has no reference or identifier")
    return None


def _fallback(entry: Any, index: int, kind: str) -> str:
    url = (entry.fullUrl or "").strip()
    if url:
        key = reference_key(url)
        if key.startswith(f"{kind}/"):
            return key.split("/", 1)[1]
        return url
    return f"entry-{index}"


def extract_bundle(bundle: Any, *, protocol: Any = None) -> list[Extracted]:
    """The facts of every entry, in entry order (entries without a resource are skipped)."""
    entries = [(i, e, e.resource) for i, e in enumerate(bundle.entry or ()) if e.resource is not None]
    index = _BundleIndex()
    for i, entry, resource in entries:
        index.add(resource, resource.id or _fallback(entry, i, resource.get_resource_type()), entry.fullUrl)
    retracted, parents = _report_links(entries, index)
    out = []
    for i, entry, resource in entries:
        kind = resource.get_resource_type()
        try:
            out.append(extract(resource, revision=i, fallback_id=_fallback(entry, i, kind), protocol=protocol,
                               _index=index, _retracted=retracted, _parents=parents))
        except InvalidInput as exc:
            inner = exc.location.split(".", 1)[1] if exc.location and "." in exc.location else ""
            location = f"Bundle.entry[{i}].resource" + (f".{inner}" if inner else "")
            raise InvalidInput(f"entry {i}: {exc}", code=exc.code, location=location) from None
    return out


_RETRACTING = frozenset({"entered-in-error", "cancelled"})


def _report_links(entries, index: _BundleIndex) -> tuple[dict[str, str], dict[str, tuple]]:
    """Observations named by a DiagnosticReport (``result``) or a panel (``hasMember``) in the bundle:
    each one's ancestors, nearest first (their date and specimen stand in for its own when missing),
    and the retracted ones (an ancestor entered-in-error or cancelled retracts its results)."""
    parent_of: dict[str, list[Any]] = {}
    for _i, _entry, resource in entries:
        kind = resource.get_resource_type()
        refs = resource.result if kind == "DiagnosticReport" else (
            resource.hasMember if kind == "Observation" else None)
        for ref in refs or ():
            if not ref.reference or ref.reference.startswith("#"):
                continue
            target = index.get(ref.reference)
            if target is None or target.get_resource_type() != "Observation" or target is resource:
                continue
            parent_of.setdefault(f"Observation/{index.id_of(target)}", []).append(resource)
    retracted: dict[str, str] = {}
    parents: dict[str, tuple] = {}
    for source, direct in parent_of.items():
        chain: list[Any] = []
        seen = {source}
        frontier = list(direct)
        while frontier:
            ancestor = frontier.pop(0)
            key = f"{ancestor.get_resource_type()}/{index.id_of(ancestor)}"
            if key in seen:
                continue
            seen.add(key)
            chain.append(ancestor)
            frontier.extend(parent_of.get(key, ()))
        parents[source] = tuple(chain)
        status = next((a.status for a in chain if a.status in _RETRACTING), None)
        if status is not None:
            retracted[source] = status
    return retracted, parents


def _identifier_match(subject: SubjectRef, patient: Extracted) -> bool:
    for system, value in patient.identifiers:
        if value == subject.value and (subject.system is None or subject.system == system):
            return True
    return subject.system is None and subject.value == patient.resource_id


def screening_input(bundle: Any, *, protocol: Any = None) -> tuple[str, PatientProfile | None, list]:
    """(patient id, profile, facts) for offline screening of a one-patient Bundle: the first Patient
    (else the subject most referenced); facts about other subjects are dropped."""
    extracted = extract_bundle(bundle, protocol=protocol)
    patients = [e for e in extracted if e.resource_type == "Patient"]
    patient = patients[0] if patients else None
    if patient is not None:
        patient_id = patient.resource_id
    else:
        counts = Counter(e.subject for e in extracted if e.subject is not None)
        if not counts:
            raise InvalidInput("Bundle: no Patient and no resource naming a patient", code="required",
                               location="Bundle.entry")
        top = counts.most_common(1)[0][0]
        patient_id = top.value
        patient = Extracted("Patient", patient_id, f"Patient/{patient_id}",
                            identifiers=[(top.system, top.value)] if top.kind == "identifier" else [])
    facts = []
    for item in extracted:
        subject = item.subject
        if subject is not None and item.resource_type != "Patient":
            same = subject.value == patient_id if subject.kind == "id" else _identifier_match(subject, patient)
            if not same:
                continue
        facts.extend(item.facts)
    return patient_id, patient.profile, facts


__all__ = [
    "OFFLINE_BUNDLE_TYPES",
    "SUBMISSION_BUNDLE_TYPES",
    "SUPPORTED_TYPES",
    "Extracted",
    "InvalidInput",
    "SubjectRef",
    "extract",
    "extract_bundle",
    "parse_json",
    "patient_identifiers",
    "read_bundle",
    "read_resource",
    "screening_input",
]
