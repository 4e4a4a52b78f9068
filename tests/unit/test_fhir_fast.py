"""The intake fast path (ingest/fhir_fast.py) against fhir.resources: whatever the fast models accept,
fhir.resources accepts, with the same facts, profile, identifiers, subject and warnings; and reading
with the fallback accepts, refuses and words its refusals exactly as fhir.resources alone.

The fast models are checked three ways: field by field against the R4B models (names, cardinality,
primitive types, required elements, choices), by the two regex engines on every code point, and
differentially, on generated resources and bundles and on every FHIR file of the corpus."""

from __future__ import annotations

import copy
import json
import re
import typing
from pathlib import Path
from types import UnionType

import msgspec
import pytest
from fhir.resources.R4B import fhirtypes, get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from config.protocol_files import load_protocol
from ingest import fhir, fhir_fast
from ingest.errors import InvalidInput
from tests.fhir_samples import bundle as sample_bundle
from tests.fhir_samples import coded, eligible_record, quantity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "corpus"
PROTOCOL = load_protocol()


# --- running both paths -------------------------------------------------------------------------------


def outcome(action) -> tuple:
    """What ``action`` gives, or how it fails (an InvalidInput with its message, code and location)."""
    try:
        return ("ok", action())
    except InvalidInput as exc:
        return ("invalid", str(exc), exc.code, exc.location)
    except Exception as exc:  # noqa: BLE001 - both paths must fail the same way, whatever the way
        return ("error", type(exc).__name__, str(exc))


def slow(action) -> tuple:
    fhir_fast.ENABLED = False
    try:
        return outcome(action)
    finally:
        fhir_fast.ENABLED = True


def read_and_extract(data: dict) -> list:
    data = copy.deepcopy(data)
    if data.get("resourceType") == "Bundle":
        return fhir.extract_bundle(fhir.read_bundle(data), protocol=PROTOCOL)
    return [fhir.extract(fhir.read_resource(data), protocol=PROTOCOL)]


def screen(data: dict) -> tuple:
    return fhir.screening_input(fhir.read_bundle(copy.deepcopy(data)), protocol=PROTOCOL)


def check_resource(data: dict) -> None:
    """Fast accepts => fhir.resources accepts, same extraction; and the read with fallback is the slow
    read, refusals included."""
    fast = fhir_fast.read(copy.deepcopy(data)) if isinstance(data.get("resourceType"), str) else None
    if fast is not None:
        model = slow(lambda: fhir.read_resource(copy.deepcopy(data)))
        assert model[0] == "ok", f"fast path accepted what fhir.resources refuses: {model}"
        assert outcome(lambda: fhir.extract(fast, protocol=PROTOCOL)) == \
            outcome(lambda: fhir.extract(model[1], protocol=PROTOCOL))
    assert outcome(lambda: read_and_extract(data)) == slow(lambda: read_and_extract(data))


def check_bundle(data: dict) -> None:
    assert outcome(lambda: read_and_extract(data)) == slow(lambda: read_and_extract(data))
    assert outcome(lambda: screen(data)) == slow(lambda: screen(data))


# --- the fast models mirror the R4B models ---------------------------------------------------------------


def _models() -> list[type]:
    found = []
    for value in vars(fhir_fast).values():
        if (isinstance(value, type) and issubclass(value, fhir_fast._Base)
                and value.__module__ == fhir_fast.__name__ and not value.__name__.startswith("_")):
            found.append(value)
    return found


def _without_none(tp):
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, UnionType) and type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return (rest[0] if len(rest) == 1 else typing.Union[rest]), True
    return tp, False


def _same_type(a, b) -> bool:
    unions = (typing.Union, UnionType)
    if typing.get_origin(a) in unions and typing.get_origin(b) in unions:
        return set(typing.get_args(a)) == set(typing.get_args(b))
    return a == b


def _r4b_shape(annotation) -> tuple[bool, str]:
    """(a list?, FHIR primitive name or R4B class name) of an R4B field."""
    tp, _ = _without_none(annotation)
    is_list = typing.get_origin(tp) is list
    if is_list:
        tp, _ = _without_none(typing.get_args(tp)[0])
    if tp is bool:
        return is_list, "boolean"
    if typing.get_origin(tp) is typing.Annotated:
        return is_list, typing.get_args(tp)[1].__visit_name__
    return is_list, tp.get_model_klass().__name__


def _fast_shape(annotation) -> tuple[bool, bool, object]:
    """(optional?, a list?, fast primitive type or Struct class name) of a fast field."""
    tp, optional = _without_none(annotation)
    is_list = typing.get_origin(tp) is list
    if is_list:
        tp = typing.get_args(tp)[0]
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return optional, is_list, tp.__name__
    return optional, is_list, tp


CONVERTERS = {"date": "_date", "dateTime": "_datetime", "instant": "_instant", "decimal": "_decimal"}


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_fast_field_is_the_r4b_field(model):
    r4b = get_fhir_model_class(model.__name__)
    by_alias = {info.alias or name: info for name, info in r4b.model_fields.items()}
    required = {alias for alias, _ in r4b.get_required_fields(r4b.model_construct())}
    hints = typing.get_type_hints(model, include_extras=True)
    converted = {name: convert.__name__ for name, convert in getattr(model, "_convert", ())}
    fields = {f.name: f for f in msgspec.structs.fields(model)}
    if hasattr(model, "get_resource_type"):
        assert model.get_resource_type() == r4b.get_resource_type() == model.__struct_config__.tag
    for name, field in fields.items():
        if model is fhir_fast.BundleEntry and name == "resource":
            assert hints[name] is type(None)  # set after decoding, never decoded
            continue
        assert name in by_alias, f"{model.__name__}.{name} is not an R4B element"
        info = by_alias[name]
        r4b_list, kind = _r4b_shape(info.annotation)
        optional, fast_list, fast_kind = _fast_shape(hints[name])
        assert fast_list == r4b_list, f"{model.__name__}.{name}: cardinality"
        if kind in fhir_fast.PRIMITIVES:
            assert _same_type(fast_kind, fhir_fast.PRIMITIVES[kind]), f"{model.__name__}.{name}: not a {kind}"
            if kind in CONVERTERS:
                expected = "_datetimes" if fast_list else CONVERTERS[kind]
                assert converted.get(name) == expected, f"{model.__name__}.{name}: {kind} not converted"
        else:
            assert fast_kind == kind, f"{model.__name__}.{name}: {fast_kind} is not {kind}"
        if info.is_required() or name in required:
            assert field.required and not optional, f"{model.__name__}.{name} is required in R4B"
    assert set(converted) <= set(fields)
    choices = {frozenset(g) for g in getattr(model, "_choices", ())}
    required_choices = {frozenset(g) for g in getattr(model, "_required", ())}
    for group in r4b.get_one_of_many_fields(r4b.model_construct()).values():
        modelled = frozenset(group) & set(fields)
        if len(modelled) > 1:
            assert modelled in choices, f"{model.__name__}: choice {sorted(modelled)} not checked"
        if r4b.model_fields[group[0]].json_schema_extra.get("one_of_many_required"):
            assert modelled in required_choices, f"{model.__name__}: choice {sorted(modelled)} is required"
    assert all(g <= set(fields) for g in choices | required_choices)


def test_python_non_space_is_rust_non_space_on_every_code_point():
    """The fast String and Code patterns (Python's re) rest on this: a character Python's ``\\s`` does
    not match is one fhir_core's string pattern (Rust's regex) accepts alone; and a Python space
    between two letters keeps a code valid there."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and not re.fullmatch(r"\s", chr(c))]
    TypeAdapter(list[fhirtypes.StringType]).validate_python(chars)
    TypeAdapter(list[fhirtypes.CodeType]).validate_python(chars)
    spaces = [chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c))]
    TypeAdapter(list[fhirtypes.CodeType]).validate_python([f"a{s}b" for s in spaces])
    with pytest.raises(ValidationError):
        TypeAdapter(fhirtypes.StringType).validate_python("\ud800x")


# --- pinned cases: each one the fast path leaves to fhir.resources -----------------------------------------

LOINC = "http://loinc.org"


def observation(**fields) -> dict:
    data = {"resourceType": "Observation", "id": "obs-1", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "718-7"}]}, "subject": {"reference": "Patient/p-1"},
            "effectiveDateTime": "2026-11-20", "valueQuantity": {"value": 12.1, "unit": "g/dL"}}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


LEFT_TO_FHIR_RESOURCES = [
    observation(status="final\n"),
    observation(status="fi  nal"),
    observation(code={"coding": [{"display": "\x0b"}]}),
    observation(code={"coding": [{"display": "\ud800"}]}),
    observation(code={"text": ""}),
    observation(effectiveDateTime="2026-02-30"),
    observation(effectiveDateTime="2016-12-31T23:59:60Z"),
    observation(effectiveDateTime="2026-11-20T10:00:00.1234567+01:00"),
    observation(effectiveDateTime="2026-11-20T10:00:00"),
    observation(valueQuantity={"value": True}),
    observation(valueQuantity={"value": "12.1"}),
    observation(valueQuantity={"value": float("inf")}),
    observation(valueQuantity={"value": 10**5000}),
    observation(valueQuantity=None, valueInteger="5"),
    observation(valueQuantity=None, valueInteger=1.0),
    observation(valueQuantity=None, valueInteger=2**31),
    observation(valueString="x"),
    observation(effectivePeriod={"start": "2026-11-20"}),
    observation(valueQuantity=None, valueTime="10:00:00"),
    observation(_status={"extension": []}),
    observation(contained=[{"resourceType": "Specimen", "id": "s"}]),
    observation(extension=[{"url": "urn:x", "valueString": "y"}]),
    observation(code={"coding": [{"code": "718-7", "fhir_comments": "x"}]}),
    observation(code={"coding": [{"code": "718-7"}], "resourceType": "CodeableConcept"}),
    observation(category=[None]),
    observation(status=None),
    observation(id="x" * 65),
    {"resourceType": "Patient", "id": "p-1", "birthDate": "2015-02-29"},
    {"resourceType": "Patient", "id": "p-1", "name": [{"given": ["A", None]}]},
    {"resourceType": "Patient", "id": "p-1", "gender": "male", "deceasedBoolean": "false"},
    {"resourceType": "Immunization", "id": "i", "status": "completed", "vaccineCode": {}, "patient": {}},
    {"resourceType": "Organization", "id": "site-a", "name": "Necker"},
]


def shown(data: dict) -> str:
    try:
        return json.dumps(data, ensure_ascii=True)[-60:]
    except ValueError:
        return "a number too long to print"


@pytest.mark.parametrize("data", LEFT_TO_FHIR_RESOURCES, ids=shown)
def test_what_the_fast_path_does_not_take_is_read_as_before(data):
    assert fhir_fast.read(copy.deepcopy(data)) is None
    check_resource(data)


READ_FAST = [
    observation(),
    observation(effectiveDateTime="2026-11-20T10:00:00.5-00:00", valueQuantity={"value": -0.0}),
    observation(effectiveDateTime="2026-11", valueQuantity={"value": 10**30, "comparator": "<"}),
    observation(valueQuantity=None, valueDateTime="2026-11-20T23:30:00+14:00"),
    observation(status="a\x1cb", code={"coding": [{"code": "été", "display": "a\x01"}]}),
    observation(valueQuantity=None, valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct",
                                                                      "code": "260373001"}]}),
    {"resourceType": "Patient", "id": "p-1", "birthDate": "2016", "gender": "female",
     "deceasedBoolean": False},
]


@pytest.mark.parametrize("data", READ_FAST, ids=shown)
def test_what_the_fast_path_takes_reads_as_before(data):
    assert fhir_fast.read(copy.deepcopy(data)) is not None
    check_resource(data)


# --- generated resources and bundles ---------------------------------------------------------------------
#
# One profile of strategies per noise level: clean (valid values of the right types, so most resources
# are read and mapped), lightly and heavily noisy (values of other types and shapes, malformed
# primitives, unknown or dropped elements, two values of one choice).

WEIRD = st.sampled_from([None, "", " ", [], {}, [None], 0, 1, -1, 1.5, True, False, "x", "\ud800"])
STRING_EDGES = ["", " ", "\t", "\n", "\x0b", "\xa0", "\u3000", "a\x01", "\x1c", "\ud800", "é", "日本", "a\nb"]
CODE_EDGES = ["", " ", "final\n", " final", "fi  nal", "a\x1cb", "a\x1c\x1cb", "été", "x\u3000y", "a\tb",
              "\ud800"]
URIS = [LOINC, "http://snomed.info/sct", "http://unitsofmeasure.org", "urn:myocit:assessment",
        "urn:myocit:criterion", "urn:myocit:verdict", "urn:myocit:coverage", "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/cvx", "http://www.whocc.no/atc", "urn:oid:1.2.250.1.71.4.2.7"]
LOINC_CODES = ["718-7", "26499-4", "26474-7", "14682-9", "8302-2", "29463-7", "82810-3", "19162-7", "42798-9",
               "4996-5", "5196-1"]
REFERENCES = ["Patient/p-1", "Patient/p-2", "urn:uuid:e0", "urn:uuid:e1", "urn:uuid:e2",
              "Organization/site-a", "#c1", "Patient?identifier=urn:mrn|M-1", "Specimen/s-1",
              "Observation/o-1", "Condition/c-1", "Medication/m-1",
              "http://example.org/fhir/Patient/p-1/_history/2", "Practitioner/inv-1"]
OBS_STATUSES = ("final", "amended", "corrected", "preliminary", "cancelled", "entered-in-error", "registered",
                "done")
JUNK = st.sampled_from([{"foo": 1}, {"extension": [{"url": "urn:x", "valueString": "y"}]}, {"id": "e1"},
                        {"fhir_comments": "c"}, {"_code": {"extension": []}}, {"resourceType": "Element"}])


@st.composite
def temporal(draw, kind: str, noisy: bool) -> str:
    """date, dateTime or instant text; with noise, one part in four of them wrong."""
    parts = {
        "year": (["2026", "2024", "2010", "1899", "0001"], ["0000", "9999", "26", "20266"]),
        "month": (["01", "02", "11", "12"], ["13", "00", "1"]),
        "day": (["01", "20", "28", "29", "30", "31"], ["32", "00"]),
        "hms": (["10:00:00", "00:00:00", "23:59:59"], ["23:59:60", "24:00:00", "10:00", "10:60:00"]),
        "fraction": (["", "", ".5", ".123", ".123456"], [".1234567", ".123456789", "."]),
        "zone": (["Z", "+01:00", "-05:00", "+14:00", "-14:00", "-00:00", "+13:59"],
                 ["", "+1:00", "+15:00", "z"]),
    }
    wrong = draw(st.sampled_from(list(parts))) if noisy and draw(st.integers(0, 3)) == 0 else None
    got = {name: draw(st.sampled_from(bad if name == wrong else good)) for name, (good, bad) in parts.items()}
    shapes = {"date": ["year", "month", "date", "date"],
              "dateTime": ["year", "month", "date", "datetime", "datetime"],
              "instant": ["datetime"]}[kind]
    if wrong:
        shapes = shapes + {"date": ["datetime"], "dateTime": [], "instant": ["date"]}[kind]
    shape = draw(st.sampled_from(shapes))
    return {"year": "{year}", "month": "{year}-{month}", "date": "{year}-{month}-{day}",
            "datetime": "{year}-{month}-{day}T{hms}{fraction}{zone}"}[shape].format(**got)


def profile(one_in: int) -> dict:
    """The strategies of one noise level: each value is of another type or shape once in ``one_in``
    (0: never)."""
    noisy = one_in > 0

    def sometimes(strategy, odd=WEIRD, rate: int = one_in):
        if not rate:
            return strategy
        return st.integers(0, rate - 1).flatmap(lambda i: odd if i == 0 else strategy)

    def codes(*valid: str):
        if not noisy:
            return st.sampled_from(valid)
        return sometimes(st.sampled_from(valid), st.one_of(st.sampled_from(CODE_EDGES), st.text(max_size=5)))

    strings = sometimes(st.text(min_size=1, max_size=8), st.one_of(st.sampled_from(STRING_EDGES), WEIRD))
    uris = sometimes(st.sampled_from(URIS),
                     st.one_of(st.sampled_from(["", "a b"]), st.text(max_size=6), WEIRD))
    ids = sometimes(st.from_regex(r"\A[A-Za-z0-9\-.]{1,8}\Z"),
                    st.sampled_from(["", "a b", "x" * 64, "x" * 65, "x" * 256, "é", "a\n", 1]))
    dates, datetimes, instants = (sometimes(temporal(k, noisy), st.one_of(
        st.sampled_from(["20261120", " 2026-11-20", "2026-11-20T10:00:00+01:00\n", 2026]), WEIRD))
        for k in ("date", "dateTime", "instant"))
    decimals = sometimes(st.one_of(st.integers(-(10**20), 10**20),
                                   st.floats(allow_nan=False, allow_infinity=False, width=64),
                                   st.sampled_from([0, -0.0, 1.0, 0.1, 10**30, 1e308, 5e-324])),
                         st.sampled_from([float("inf"), True, False, "1.5", "01", None, 2**70]))
    integers = sometimes(st.integers(-(2**31), 2**31 - 1),
                         st.sampled_from([2**31, -(2**31) - 1, True, 1.0, "1", 2.5, None]))
    booleans = sometimes(st.booleans(), st.sampled_from(["true", 1, 0, None]))

    def element(required: dict | None = None, optional: dict | None = None):
        """A dict with every required key and some optional ones; with noise, rarely a key fhir_fast
        does not model, or a required one dropped."""
        base = st.fixed_dictionaries(required or {}, optional=optional or {})
        if not noisy:
            return base

        def spoil(data: dict):
            return st.one_of(JUNK.map(lambda junk: {**data, **junk}),
                             st.just({k: v for k, v in data.items() if k not in (required or {})}))

        return sometimes(base, base.flatmap(spoil), rate=one_in * 2)

    def one_of_keys(required: bool = False, **choices):
        """At most one of ``choices`` (key: value strategy), exactly one if ``required``; with noise,
        sometimes none or two."""
        single = [st.builds(lambda v, k=k: {k: v}, s) for k, s in choices.items()]
        one = st.one_of(*single) if required else st.one_of(st.just({}), *single)
        return sometimes(one, st.tuples(one, st.one_of(st.just({}), *single)).map(
            lambda pair: {**pair[0], **pair[1]} if noisy else {}))

    def merged(*parts):
        return st.tuples(*parts).map(lambda ds: {k: v for d in ds for k, v in d.items()})

    def elements(strategy, max_size: int = 1):
        return sometimes(st.lists(strategy, max_size=max_size))

    coding = element(optional={"system": uris, "code": codes(*LOINC_CODES, "MMT8", "CMAS", "menarche", "pass",
                                                              "fail", "EXC-ANC", "INC-AGE", "260373001",
                                                              "10828004", "POS", "active", "confirmed",
                                                              "social-security", "J20", "L04AA37"),
                               "display": strings, "version": strings, "userSelected": booleans})
    concept = element(optional={"coding": elements(coding, 2), "text": strings})

    def coded_as(systems, values):
        return st.one_of(concept, st.builds(lambda s, c: {"coding": [{"system": s, "code": c}]},
                                            st.sampled_from(systems), st.sampled_from(values)))

    lab_code = coded_as([LOINC, "urn:myocit:assessment", "urn:myocit:criterion"],
                        LOINC_CODES + ["MMT8", "CMAS", "menarche", "EXC-ANC", "INC-AGE", "EXC-BOGUS"])
    answer = coded_as(["http://snomed.info/sct", "urn:myocit:verdict"],
                      ["260373001", "260415000", "10828004", "pass", "fail", "Y"])
    identifier = element(optional={"system": uris, "value": st.sampled_from(["M-1", " M-1 ", "A-000123"]),
                                   "use": codes("official", "usual")})
    reference = element(optional={"reference": st.sampled_from(REFERENCES), "display": strings,
                                  "identifier": identifier, "type": uris})
    quantity_ = element(optional={"value": decimals, "unit": strings, "system": uris,
                                  "code": codes("mg", "g/dL", "cm", "kg", "G/L", "mg/d", "d", "wk"),
                                  "comparator": codes("<", ">", "<=")})
    period = element(optional={"start": datetimes, "end": datetimes})
    range_ = element(optional={"low": quantity_, "high": quantity_})
    ratio = element(optional={"numerator": quantity_, "denominator": quantity_})
    annotation = element({"text": strings}, {"time": datetimes, "authorString": strings})
    meta = element(optional={"lastUpdated": instants, "versionId": ids, "profile": elements(uris),
                             "tag": elements(coding)})
    common = {"meta": meta, "language": codes("fr", "en"),
              "text": element({"status": codes("generated"), "div": strings})}
    repeat = element(optional={"frequency": integers, "frequencyMax": integers, "period": decimals,
                               "periodUnit": codes("d", "h", "wk"), "boundsPeriod": period,
                               "boundsDuration": quantity_, "count": integers})
    timing = element(optional={"repeat": repeat, "code": concept, "event": elements(datetimes)})
    dose_and_rate = merged(one_of_keys(doseQuantity=quantity_, doseRange=range_),
                           one_of_keys(rateQuantity=quantity_, rateRatio=ratio))
    dosage = merged(element(optional={"sequence": integers, "text": strings, "timing": timing,
                                      "route": concept, "doseAndRate": elements(dose_and_rate)}),
                    one_of_keys(asNeededBoolean=booleans, asNeededCodeableConcept=concept))
    medication = one_of_keys(True, medicationCodeableConcept=concept, medicationReference=reference)
    value = one_of_keys(valueQuantity=quantity_, valueCodeableConcept=answer, valueString=strings,
                        valueBoolean=booleans, valueInteger=integers, valueRange=range_, valueRatio=ratio,
                        valueDateTime=datetimes, valuePeriod=period,
                        **({"valueTime": st.just("10:00:00")} if noisy else {}))
    component = merged(element({"code": lab_code}, {"interpretation": elements(concept)}), value)

    def resource(kind: str, required: dict, optional: dict, *parts):
        # No id is a refusal at extraction: rare in the clean profile, as likely as not with noise.
        identity = {"id": ids} if not noisy else {}
        return merged(element({"resourceType": st.just(kind), **identity, **required},
                              {**common, **optional, **({"id": ids} if noisy else {})}), *parts)

    found = {
        "Observation": resource(
            "Observation", {"status": codes(*OBS_STATUSES), "code": lab_code},
            {"subject": reference, "issued": instants, "interpretation": elements(concept),
             "note": elements(annotation), "performer": elements(reference), "specimen": reference,
             "hasMember": elements(reference), "category": elements(concept),
             "component": elements(component, 2), "identifier": elements(identifier),
             "referenceRange": elements(element(optional={"low": quantity_, "high": quantity_,
                                                          "text": strings}))},
            one_of_keys(True, effectiveDateTime=datetimes, effectivePeriod=period, effectiveInstant=instants),
            value),
        "Patient": resource(
            "Patient", {}, {"gender": codes("male", "female", "other", "unknown", "f"), "birthDate": dates,
                            "managingOrganization": reference, "identifier": elements(identifier),
                            "active": booleans,
                            "name": elements(element(optional={"family": strings,
                                                               "given": elements(strings)}))},
            one_of_keys(deceasedBoolean=booleans, deceasedDateTime=datetimes),
            one_of_keys(multipleBirthBoolean=booleans, multipleBirthInteger=integers)),
        "Condition": resource(
            "Condition", {"subject": reference},
            {"clinicalStatus": concept, "verificationStatus": concept, "code": concept,
             "recordedDate": datetimes, "note": elements(annotation)},
            one_of_keys(onsetDateTime=datetimes, onsetPeriod=period, onsetString=strings, onsetAge=quantity_),
            one_of_keys(abatementDateTime=datetimes, abatementPeriod=period, abatementString=strings)),
        "DiagnosticReport": resource(
            "DiagnosticReport", {"status": codes("final", "cancelled", "entered-in-error", "partial"),
                                 "code": concept},
            {"subject": reference, "issued": instants, "result": elements(reference, 3),
             "specimen": elements(reference), "conclusion": strings},
            one_of_keys(effectiveDateTime=datetimes, effectivePeriod=period)),
        "Immunization": resource(
            "Immunization", {"status": codes("completed", "not-done", "entered-in-error"),
                             "vaccineCode": concept, "patient": reference},
            {"recorded": datetimes, "primarySource": booleans, "expirationDate": dates, "lotNumber": strings},
            one_of_keys(True, occurrenceDateTime=datetimes, occurrenceString=strings)),
        "MedicationStatement": resource(
            "MedicationStatement", {"status": codes("active", "completed", "stopped", "not-taken"),
                                    "subject": reference},
            {"dateAsserted": datetimes, "dosage": elements(dosage), "reasonCode": elements(concept),
             "reasonReference": elements(reference)},
            medication, one_of_keys(effectiveDateTime=datetimes, effectivePeriod=period)),
        "MedicationRequest": resource(
            "MedicationRequest", {"status": codes("active", "completed", "draft"),
                                  "intent": codes("order", "plan"), "subject": reference},
            {"authoredOn": datetimes, "dosageInstruction": elements(dosage), "reasonCode": elements(concept)},
            medication, one_of_keys(reportedBoolean=booleans, reportedReference=reference)),
        "MedicationAdministration": resource(
            "MedicationAdministration", {"status": codes("completed", "in-progress"), "subject": reference},
            {"dosage": merged(element(optional={"dose": quantity_, "route": concept}),
                              one_of_keys(rateQuantity=quantity_, rateRatio=ratio))},
            medication, one_of_keys(True, effectiveDateTime=datetimes, effectivePeriod=period)),
        "Consent": resource(
            "Consent", {"status": codes("active", "rejected", "inactive", "draft"), "scope": concept,
                        "category": elements(concept)},
            {"patient": reference, "dateTime": datetimes,
             "provision": element(optional={"period": period, "type": codes("permit")})}),
        "Coverage": resource(
            "Coverage", {"status": codes("active", "cancelled"), "beneficiary": reference,
                         "payor": elements(reference)},
            {"type": coded_as(["urn:myocit:coverage"], ["social-security", "ame"]), "period": period,
             "order": sometimes(st.integers(1, 2**31 - 1), st.sampled_from([0, -1, 2**31, "1"]))}),
        "Specimen": resource("Specimen", {}, {
            "type": concept, "subject": reference,
            "collection": element(optional={"collectedDateTime": datetimes})}),
        "Medication": resource("Medication", {}, {"code": concept, "ingredient": elements(
            merged(element(optional={"isActive": booleans}),
                   one_of_keys(True, itemCodeableConcept=concept, itemReference=reference)))}),
        "Organization": st.builds(lambda i: {"resourceType": "Organization", "id": i, "name": "Necker"}, ids),
        "Practitioner": st.just({"resourceType": "Practitioner", "id": "inv-1"}),
    }
    found["resource"] = st.one_of(found["Observation"], *found.values())
    found["element"], found["sometimes"], found["codes"], found["ids"] = element, sometimes, codes, ids
    found["decimals"], found["instants"], found["integers"], found["uris"], found["strings"] = (
        decimals, instants, integers, uris, strings)
    found["meta"], found["elements"], found["one_in"] = meta, elements, one_in
    return found


PROFILES = {"clean": profile(0), "noisy": profile(60), "noisier": profile(15)}
resources = st.one_of(*(p["resource"] for p in PROFILES.values()))


@st.composite
def bundles(draw) -> dict:
    p = PROFILES[draw(st.sampled_from(["clean", "clean", "noisy", "noisier"]))]
    content = draw(st.lists(st.one_of(p["Observation"], p["DiagnosticReport"], p["resource"]), max_size=4))
    if draw(st.booleans()):
        content.insert(0, {"resourceType": "Patient", "id": "p-1", "gender": "female",
                           "birthDate": "2014-03-02",
                           "managingOrganization": {"reference": "Organization/site-a"}})
    types = ["collection", "batch", "transaction", "searchset", "document"]
    kind = draw(p["sometimes"](st.sampled_from(types), st.sampled_from(["message", "", None]),
                               rate=p["one_in"] * 4))
    element = p["element"]
    entries = []
    for i, item in enumerate(content):
        entry = draw(element(optional={"fullUrl": st.sampled_from([f"urn:uuid:e{i}", f"urn:uuid:e{i}", "",
                                                                   " urn:uuid:e0 "]),
                                       "request": element({"method": p["codes"]("PUT", "POST"),
                                                           "url": st.just(f"Observation/o-{i}")}),
                                       "search": element(optional={"score": p["decimals"],
                                                                   "mode": p["codes"]("match")})}))
        if isinstance(entry, dict) and draw(st.sampled_from([True] * 9 + [False])):
            entry["resource"] = item
        entries.append(entry)
    shell = draw(element({"resourceType": st.just("Bundle")},
                         {"id": p["ids"], "meta": p["meta"], "timestamp": p["instants"],
                          "total": p["sometimes"](st.integers(0, 2**31 - 1),
                                                  st.sampled_from([-1, 2**31, "3"])),
                          "link": p["elements"](element({"relation": p["strings"], "url": p["uris"]}))}))
    if not isinstance(shell, dict):
        return {"resourceType": "Bundle", "type": kind, "entry": entries}
    return {**shell, "type": kind, "entry": entries}


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(resources)
def test_generated_resources_read_as_fhir_resources_reads_them(data):
    check_resource(data)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles())
def test_generated_bundles_read_as_fhir_resources_reads_them(data):
    check_bundle(data)


def test_the_generators_reach_the_fast_path_and_the_fallback():
    """The generated data is not all refused: the fast path reads a good share of it."""
    fhir_fast.reset_counts()
    read = {"fast": 0, "fallback": 0}

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(resources)
    def count(data):
        read["fast" if fhir_fast.read(copy.deepcopy(data)) is not None else "fallback"] += 1

    count()
    assert read["fast"] >= 15 and read["fallback"] >= 15, read


# --- the corpus and the fixtures --------------------------------------------------------------------------

FHIR_FILES = sorted(p for d in ("fhir-r4-spec", "fhir-r4-uscore", "synthea")
                    for p in (CORPUS / d).glob("*.json"))


def test_the_corpus_is_there():
    assert len(FHIR_FILES) >= 50


@pytest.mark.parametrize("path", FHIR_FILES + [FIXTURES / "typical-child.json"], ids=lambda p: p.name[:40])
def test_every_fhir_file_reads_the_same_on_both_paths(path):
    data = fhir.parse_json(path.read_bytes())
    if data["resourceType"] == "Bundle":
        check_bundle(data)
        resources_ = [e["resource"] for e in data.get("entry", ()) if "resource" in e]
    else:
        check_resource(data)
        resources_ = [data]
    for item in resources_:
        check_resource(item)


def _bundle_counts(data: dict) -> tuple[dict, dict]:
    fhir_fast.reset_counts()
    fhir.extract_bundle(fhir.read_bundle(data), protocol=PROTOCOL)
    return dict(fhir_fast.hits), dict(fhir_fast.fallbacks)


def test_the_typical_child_takes_the_fast_path_throughout():
    data = fhir.parse_json((FIXTURES / "typical-child.json").read_bytes())
    hits, fallbacks = _bundle_counts(data)
    assert fallbacks == {}
    kinds: dict[str, int] = {"Bundle": 1}
    for entry in data["entry"]:
        kinds[entry["resource"]["resourceType"]] = kinds.get(entry["resource"]["resourceType"], 0) + 1
    assert hits == kinds
    assert {"Patient", "Observation", "DiagnosticReport", "Condition", "MedicationRequest",
            "MedicationStatement", "Immunization", "Consent", "Coverage", "Specimen"} <= set(hits)


@pytest.mark.parametrize("kind", ["batch", "transaction", "collection"])
def test_lab_batches_take_the_fast_path(kind):
    batch = sample_bundle([quantity("p-1", "718-7", 12.0 + i / 10, "g/dL", "2026-11-20") for i in range(10)]
                          + [coded("p-1", "4996-5", "260415000", "2026-11-20T08:00:00+01:00")] * 10, kind)
    assert _bundle_counts(batch) == ({"Bundle": 1, "Observation": 20}, {})
    check_bundle(batch)


def test_a_complete_record_takes_the_fast_path():
    from datetime import date

    record = sample_bundle(eligible_record("p-1", date(2026, 11, 20)), "collection")
    hits, fallbacks = _bundle_counts(record)
    assert fallbacks == {} and sum(hits.values()) == len(record["entry"]) + 1
    check_bundle(record)


def test_the_switch_turns_the_fast_path_off():
    data = sample_bundle([quantity("p-1", "718-7", 12.0, "g/dL", "2026-11-20")])
    fhir_fast.reset_counts()
    fhir_fast.ENABLED = False
    try:
        model = fhir.read_bundle(data)
    finally:
        fhir_fast.ENABLED = True
    assert (dict(fhir_fast.hits), dict(fhir_fast.fallbacks)) == ({}, {})
    assert not isinstance(model, fhir_fast.Bundle)
    assert isinstance(fhir.read_bundle(data), fhir_fast.Bundle)
