"""The intake fast path: msgspec models of the resources and elements of the data profile (contract §2).

A conservative subset of the ``fhir.resources`` R4B models: a resource the fast models accept is one
those models accept too, and it gives the mapping the same values (dates as ``date``/``datetime``,
partial dates as ``str``, decimals as ``Decimal``). Anything they do not model (another resource type,
``contained``, extensions, ``_element`` primitive extensions, ``fhir_comments``, an element they leave
out) or reject is left to ``fhir.resources``, which gives the real verdict and the real message:
``read`` answers None and ``ingest.fhir`` validates as before.

Why each primitive is stricter than, never looser than, its ``fhir_core`` counterpart:

- pydantic matches patterns with Rust's regex, msgspec with Python's ``re.search``; Python's ``$``
  also matches before a final newline, so every anchored pattern here ends in ``\\Z``.
- Python's ``\\s`` is a superset of Rust's (Rust's is Unicode White_Space; Python's adds
  U+001C..U+001F), so Python's ``\\S`` is a subset of Rust's, and a ``code`` of Python-non-space runs
  parted by single Python spaces is one Rust accepts (tests/unit/test_fhir_fast.py checks both on
  every code point).
- pydantic refuses lone surrogates (which ``json.loads`` can produce) in every string; so do these.
- ``date``/``dateTime``/``instant`` take fhir_core's own patterns; leap seconds (kept as text by
  fhir_core) and more than six decimals of a second (truncated by pydantic) are left to it.
- decimals and integers are JSON numbers only: pydantic also takes numeric strings for both, and
  booleans and whole floats for integers; msgspec in strict mode does not, so those fall back.

``ENABLED`` switches the fast path off (tests and the benchmark compare both); ``hits`` and
``fallbacks`` count, by resource type, what it read and what it left to ``fhir.resources`` (plain
counters: under concurrent requests an increment can be lost, never more).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal as _Decimal
from operator import attrgetter
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Struct

ENABLED = True
hits: Counter[str] = Counter()
fallbacks: Counter[str] = Counter()


def reset_counts() -> None:
    hits.clear()
    fallbacks.clear()


# --- primitives -------------------------------------------------------------------------------------

_NO_SURROGATE = r"\A[^\ud800-\udfff]*\Z"
# fhir_core: "[ \r\n\t\S]+" searched, i.e. at least one such character.
_STRING = r"(?s)\A(?=[^\ud800-\udfff]*\Z).*?[ \r\n\t\S]"
# fhir_core: "^[^\s]+(\s[^\s]+)*$".
_CODE = r"\A[^\s\ud800-\udfff]+(?:\s[^\s\ud800-\udfff]+)*\Z"
# fhir_core: "^[A-Za-z0-9\-.]+$", at most 255 long; FHIR itself says 64, as ingest.fhir labels do.
_ID = r"\A[A-Za-z0-9\-.]{1,64}\Z"
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_ZONE = r"(Z|([+\-])((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_DATE = rf"\A{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?\Z"
_DATETIME = rf"\A{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{_TIME}{_ZONE})?)?)?\Z"
_INSTANT = rf"\A{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{_TIME}{_ZONE}\Z"

String = Annotated[str, msgspec.Meta(pattern=_STRING)]
Code = Annotated[str, msgspec.Meta(pattern=_CODE)]
Id = Annotated[str, msgspec.Meta(pattern=_ID)]
Uri = Annotated[str, msgspec.Meta(pattern=_NO_SURROGATE)]  # fhir_core's "\S*" searched matches any string
Canonical = Uri
Markdown = Uri  # fhir_core's "\s*(\S|\s)*" matches any string
Xhtml = Uri  # no constraint in fhir_core
Boolean = bool
Integer = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
UnsignedInt = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
# Converted after decoding (see _Checked): Decimal, date / datetime / str as fhir.resources gives them.
Decimal = int | float
Date = Annotated[str, msgspec.Meta(pattern=_DATE)]
DateTime = Annotated[str, msgspec.Meta(pattern=_DATETIME)]
Instant = Annotated[str, msgspec.Meta(pattern=_INSTANT)]

PRIMITIVES: dict[str, Any] = {
    "string": String, "code": Code, "id": Id, "uri": Uri, "canonical": Canonical, "markdown": Markdown,
    "xhtml": Xhtml, "boolean": Boolean, "integer": Integer, "positiveInt": PositiveInt,
    "unsignedInt": UnsignedInt, "decimal": Decimal, "date": Date, "dateTime": DateTime, "instant": Instant,
}
"""The fast type of each FHIR primitive this module models, by FHIR name (the tests check each field
against the R4B model's)."""


def _decimal(value: int | float) -> _Decimal:
    # fhir_core matches str(value) against its pattern first: str() refuses ints past Python's digit
    # limit and gives "inf" for an infinite float (json.loads reads 1e999 as one); both fail here too.
    text = str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return _Decimal(text)  # as fhir_core: 1.0 stays Decimal('1.0')
    return _Decimal(value)


def _date(value: str) -> date | str:
    if len(value) < 10:
        return value  # a partial date, which fhir_core keeps as written
    return date.fromisoformat(value)  # ValueError for a day the month does not have


def _datetime(value: str) -> date | datetime | str:
    if len(value) <= 10:
        return _date(value)
    return _instant(value)


_FRACTION = re.compile(r"\.([0-9]+)")


def _instant(value: str) -> datetime:
    fraction = _FRACTION.match(value, 19)
    if value[17:19] == "60" or (fraction is not None and len(fraction.group(1)) > 6):
        raise ValueError("left to fhir.resources")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # the patterns require a zone; kept as a guard
        raise ValueError("no time zone")
    return parsed


def _datetimes(values: list[str]) -> list:
    return [_datetime(v) for v in values]


# --- structure ----------------------------------------------------------------------------------------


class _Base(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """An element with no dates, decimals or choices to check after decoding. (``kw_only`` is not
    inherited: every class repeats it, so required fields may follow optional ones.)"""


class _Checked(_Base, kw_only=True):
    """An element whose dates and decimals are converted, and whose choices ([x]) are checked, after
    decoding: at most one element of each group of ``_choices``, one of each group of ``_required``."""

    _convert: ClassVar[tuple[tuple[str, Callable[[Any], Any]], ...]] = ()
    _choices: ClassVar[tuple[tuple[str, ...], ...]] = ()
    _required: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # attrgetters of the groups above: __post_init__ runs on every decoded element, so C speed.
    _choice_values: ClassVar[tuple[attrgetter, ...]] = ()
    _required_values: ClassVar[tuple[attrgetter, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._choice_values = tuple(attrgetter(*group) for group in cls._choices)
        cls._required_values = tuple(attrgetter(*group) for group in cls._required)

    def __post_init__(self) -> None:
        for name, convert in self._convert:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, convert(value))
        for group in self._choice_values:
            values = group(self)
            if len(values) - values.count(None) > 1:
                raise ValueError("more than one value of a choice element")
        for group in self._required_values:
            values = group(self)
            if values.count(None) == len(values):
                raise ValueError("a required choice element is missing")


class Coding(_Base, kw_only=True):
    system: Uri | None = None
    version: String | None = None
    code: Code | None = None
    display: String | None = None
    userSelected: Boolean | None = None


class CodeableConcept(_Base, kw_only=True):
    coding: list[Coding] | None = None
    text: String | None = None


class Period(_Checked, kw_only=True):
    _convert = (("start", _datetime), ("end", _datetime))
    start: DateTime | None = None
    end: DateTime | None = None


class Quantity(_Checked, kw_only=True):
    _convert = (("value", _decimal),)
    value: Decimal | None = None
    comparator: Code | None = None
    unit: String | None = None
    system: Uri | None = None
    code: Code | None = None


class Duration(Quantity, kw_only=True):
    pass


class Age(Quantity, kw_only=True):
    pass


class Range(_Base, kw_only=True):
    low: Quantity | None = None
    high: Quantity | None = None


class Ratio(_Base, kw_only=True):
    numerator: Quantity | None = None
    denominator: Quantity | None = None


class Identifier(_Base, kw_only=True):
    use: Code | None = None
    type: CodeableConcept | None = None
    system: Uri | None = None
    value: String | None = None
    period: Period | None = None
    assigner: Reference | None = None


class Reference(_Base, kw_only=True):
    reference: String | None = None
    type: Uri | None = None
    identifier: Identifier | None = None
    display: String | None = None


class Annotation(_Checked, kw_only=True):
    _convert = (("time", _datetime),)
    _choices = (("authorReference", "authorString"),)
    authorReference: Reference | None = None
    authorString: String | None = None
    time: DateTime | None = None
    text: Markdown


class Meta(_Checked, kw_only=True):
    _convert = (("lastUpdated", _instant),)
    versionId: Id | None = None
    lastUpdated: Instant | None = None
    source: Uri | None = None
    profile: list[Canonical] | None = None
    security: list[Coding] | None = None
    tag: list[Coding] | None = None


class Narrative(_Base, kw_only=True):
    status: Code
    div: Xhtml


class HumanName(_Base, kw_only=True):
    use: Code | None = None
    text: String | None = None
    family: String | None = None
    given: list[String] | None = None
    prefix: list[String] | None = None
    suffix: list[String] | None = None
    period: Period | None = None


class ContactPoint(_Base, kw_only=True):
    system: Code | None = None
    value: String | None = None
    use: Code | None = None
    rank: PositiveInt | None = None
    period: Period | None = None


class Address(_Base, kw_only=True):
    use: Code | None = None
    type: Code | None = None
    text: String | None = None
    line: list[String] | None = None
    city: String | None = None
    district: String | None = None
    state: String | None = None
    postalCode: String | None = None
    country: String | None = None
    period: Period | None = None


class TimingRepeat(_Checked, kw_only=True):
    _convert = (("duration", _decimal), ("durationMax", _decimal), ("period", _decimal),
                ("periodMax", _decimal))
    _choices = (("boundsDuration", "boundsRange", "boundsPeriod"),)
    boundsDuration: Duration | None = None
    boundsRange: Range | None = None
    boundsPeriod: Period | None = None
    count: PositiveInt | None = None
    countMax: PositiveInt | None = None
    duration: Decimal | None = None
    durationMax: Decimal | None = None
    durationUnit: Code | None = None
    frequency: PositiveInt | None = None
    frequencyMax: PositiveInt | None = None
    period: Decimal | None = None
    periodMax: Decimal | None = None
    periodUnit: Code | None = None
    dayOfWeek: list[Code] | None = None
    when: list[Code] | None = None
    offset: UnsignedInt | None = None


class Timing(_Checked, kw_only=True):
    _convert = (("event", _datetimes),)
    event: list[DateTime] | None = None
    repeat: TimingRepeat | None = None
    code: CodeableConcept | None = None


class DosageDoseAndRate(_Checked, kw_only=True):
    _choices = (("doseRange", "doseQuantity"), ("rateRatio", "rateRange", "rateQuantity"))
    type: CodeableConcept | None = None
    doseRange: Range | None = None
    doseQuantity: Quantity | None = None
    rateRatio: Ratio | None = None
    rateRange: Range | None = None
    rateQuantity: Quantity | None = None


class Dosage(_Checked, kw_only=True):
    _choices = (("asNeededBoolean", "asNeededCodeableConcept"),)
    sequence: Integer | None = None
    text: String | None = None
    additionalInstruction: list[CodeableConcept] | None = None
    patientInstruction: String | None = None
    timing: Timing | None = None
    asNeededBoolean: Boolean | None = None
    asNeededCodeableConcept: CodeableConcept | None = None
    site: CodeableConcept | None = None
    route: CodeableConcept | None = None
    method: CodeableConcept | None = None
    doseAndRate: list[DosageDoseAndRate] | None = None
    maxDosePerPeriod: Ratio | None = None
    maxDosePerAdministration: Quantity | None = None
    maxDosePerLifetime: Quantity | None = None


# --- resources ----------------------------------------------------------------------------------------


class _Resource(_Checked, tag_field="resourceType", tag=True, kw_only=True):
    """A resource: ``resourceType`` is the tag (the class name), checked on decoding."""

    id: Id | None = None
    meta: Meta | None = None
    implicitRules: Uri | None = None
    language: Code | None = None

    @classmethod
    def get_resource_type(cls) -> str:
        return cls.__name__


class _DomainResource(_Resource, kw_only=True):
    # contained, extension and modifierExtension are not modelled: a resource with them falls back.
    text: Narrative | None = None


class Patient(_DomainResource, kw_only=True):
    _convert = (("birthDate", _date), ("deceasedDateTime", _datetime))
    _choices = (("deceasedBoolean", "deceasedDateTime"), ("multipleBirthBoolean", "multipleBirthInteger"))
    identifier: list[Identifier] | None = None
    active: Boolean | None = None
    name: list[HumanName] | None = None
    telecom: list[ContactPoint] | None = None
    gender: Code | None = None
    birthDate: Date | None = None
    deceasedBoolean: Boolean | None = None
    deceasedDateTime: DateTime | None = None
    address: list[Address] | None = None
    maritalStatus: CodeableConcept | None = None
    multipleBirthBoolean: Boolean | None = None
    multipleBirthInteger: Integer | None = None
    communication: list[PatientCommunication] | None = None
    generalPractitioner: list[Reference] | None = None
    managingOrganization: Reference | None = None


class PatientCommunication(_Base, kw_only=True):
    language: CodeableConcept
    preferred: Boolean | None = None


class ObservationReferenceRange(_Base, kw_only=True):
    low: Quantity | None = None
    high: Quantity | None = None
    type: CodeableConcept | None = None
    appliesTo: list[CodeableConcept] | None = None
    age: Range | None = None
    text: String | None = None


_OBSERVATION_VALUES = ("valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger",
                       "valueRange", "valueRatio", "valueDateTime", "valuePeriod")


class ObservationComponent(_Checked, kw_only=True):
    _convert = (("valueDateTime", _datetime),)
    _choices = (_OBSERVATION_VALUES,)
    # Read by the mapping, not modelled (time values fall back).
    valueTime: ClassVar[None] = None
    code: CodeableConcept
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: String | None = None
    valueBoolean: Boolean | None = None
    valueInteger: Integer | None = None
    valueRange: Range | None = None
    valueRatio: Ratio | None = None
    valueDateTime: DateTime | None = None
    valuePeriod: Period | None = None
    dataAbsentReason: CodeableConcept | None = None
    interpretation: list[CodeableConcept] | None = None
    referenceRange: list[ObservationReferenceRange] | None = None


class Observation(_DomainResource, kw_only=True):
    _convert = (("effectiveDateTime", _datetime), ("effectiveInstant", _instant), ("issued", _instant),
                ("valueDateTime", _datetime))
    _choices = (("effectiveDateTime", "effectivePeriod", "effectiveInstant"), _OBSERVATION_VALUES)
    valueTime: ClassVar[None] = None
    identifier: list[Identifier] | None = None
    basedOn: list[Reference] | None = None
    partOf: list[Reference] | None = None
    status: Code
    category: list[CodeableConcept] | None = None
    code: CodeableConcept
    subject: Reference | None = None
    focus: list[Reference] | None = None
    encounter: Reference | None = None
    effectiveDateTime: DateTime | None = None
    effectivePeriod: Period | None = None
    effectiveInstant: Instant | None = None
    issued: Instant | None = None
    performer: list[Reference] | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: String | None = None
    valueBoolean: Boolean | None = None
    valueInteger: Integer | None = None
    valueRange: Range | None = None
    valueRatio: Ratio | None = None
    valueDateTime: DateTime | None = None
    valuePeriod: Period | None = None
    dataAbsentReason: CodeableConcept | None = None
    interpretation: list[CodeableConcept] | None = None
    note: list[Annotation] | None = None
    bodySite: CodeableConcept | None = None
    method: CodeableConcept | None = None
    specimen: Reference | None = None
    device: Reference | None = None
    referenceRange: list[ObservationReferenceRange] | None = None
    hasMember: list[Reference] | None = None
    derivedFrom: list[Reference] | None = None
    component: list[ObservationComponent] | None = None


class DiagnosticReport(_DomainResource, kw_only=True):
    _convert = (("effectiveDateTime", _datetime), ("issued", _instant))
    _choices = (("effectiveDateTime", "effectivePeriod"),)
    identifier: list[Identifier] | None = None
    basedOn: list[Reference] | None = None
    status: Code
    category: list[CodeableConcept] | None = None
    code: CodeableConcept
    subject: Reference | None = None
    encounter: Reference | None = None
    effectiveDateTime: DateTime | None = None
    effectivePeriod: Period | None = None
    issued: Instant | None = None
    performer: list[Reference] | None = None
    resultsInterpreter: list[Reference] | None = None
    specimen: list[Reference] | None = None
    result: list[Reference] | None = None
    conclusion: String | None = None
    conclusionCode: list[CodeableConcept] | None = None


class Condition(_DomainResource, kw_only=True):
    _convert = (("onsetDateTime", _datetime), ("abatementDateTime", _datetime), ("recordedDate", _datetime))
    _choices = (("onsetDateTime", "onsetAge", "onsetPeriod", "onsetRange", "onsetString"),
                ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"))
    identifier: list[Identifier] | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    category: list[CodeableConcept] | None = None
    severity: CodeableConcept | None = None
    code: CodeableConcept | None = None
    bodySite: list[CodeableConcept] | None = None
    subject: Reference
    encounter: Reference | None = None
    onsetDateTime: DateTime | None = None
    onsetAge: Age | None = None
    onsetPeriod: Period | None = None
    onsetRange: Range | None = None
    onsetString: String | None = None
    abatementDateTime: DateTime | None = None
    abatementAge: Age | None = None
    abatementPeriod: Period | None = None
    abatementRange: Range | None = None
    abatementString: String | None = None
    recordedDate: DateTime | None = None
    recorder: Reference | None = None
    asserter: Reference | None = None
    note: list[Annotation] | None = None


class ImmunizationPerformer(_Base, kw_only=True):
    function: CodeableConcept | None = None
    actor: Reference


class Immunization(_DomainResource, kw_only=True):
    _convert = (("occurrenceDateTime", _datetime), ("recorded", _datetime), ("expirationDate", _date))
    _choices = (("occurrenceDateTime", "occurrenceString"),)
    _required = (("occurrenceDateTime", "occurrenceString"),)
    identifier: list[Identifier] | None = None
    status: Code
    statusReason: CodeableConcept | None = None
    vaccineCode: CodeableConcept
    patient: Reference
    encounter: Reference | None = None
    occurrenceDateTime: DateTime | None = None
    occurrenceString: String | None = None
    recorded: DateTime | None = None
    primarySource: Boolean | None = None
    reportOrigin: CodeableConcept | None = None
    location: Reference | None = None
    manufacturer: Reference | None = None
    lotNumber: String | None = None
    expirationDate: Date | None = None
    site: CodeableConcept | None = None
    route: CodeableConcept | None = None
    doseQuantity: Quantity | None = None
    performer: list[ImmunizationPerformer] | None = None
    note: list[Annotation] | None = None
    reasonCode: list[CodeableConcept] | None = None
    reasonReference: list[Reference] | None = None
    isSubpotent: Boolean | None = None
    subpotentReason: list[CodeableConcept] | None = None
    programEligibility: list[CodeableConcept] | None = None
    fundingSource: CodeableConcept | None = None


_MEDICATION = ("medicationCodeableConcept", "medicationReference")


class MedicationStatement(_DomainResource, kw_only=True):
    _convert = (("effectiveDateTime", _datetime), ("dateAsserted", _datetime))
    _choices = (_MEDICATION, ("effectiveDateTime", "effectivePeriod"))
    _required = (_MEDICATION,)
    identifier: list[Identifier] | None = None
    basedOn: list[Reference] | None = None
    partOf: list[Reference] | None = None
    status: Code
    statusReason: list[CodeableConcept] | None = None
    category: CodeableConcept | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    subject: Reference
    context: Reference | None = None
    effectiveDateTime: DateTime | None = None
    effectivePeriod: Period | None = None
    dateAsserted: DateTime | None = None
    informationSource: Reference | None = None
    derivedFrom: list[Reference] | None = None
    reasonCode: list[CodeableConcept] | None = None
    reasonReference: list[Reference] | None = None
    note: list[Annotation] | None = None
    dosage: list[Dosage] | None = None


class MedicationRequest(_DomainResource, kw_only=True):
    _convert = (("authoredOn", _datetime),)
    _choices = (_MEDICATION, ("reportedBoolean", "reportedReference"))
    _required = (_MEDICATION,)
    identifier: list[Identifier] | None = None
    status: Code
    statusReason: CodeableConcept | None = None
    intent: Code
    category: list[CodeableConcept] | None = None
    priority: Code | None = None
    doNotPerform: Boolean | None = None
    reportedBoolean: Boolean | None = None
    reportedReference: Reference | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    subject: Reference
    encounter: Reference | None = None
    authoredOn: DateTime | None = None
    requester: Reference | None = None
    performer: Reference | None = None
    performerType: CodeableConcept | None = None
    recorder: Reference | None = None
    reasonCode: list[CodeableConcept] | None = None
    reasonReference: list[Reference] | None = None
    basedOn: list[Reference] | None = None
    groupIdentifier: Identifier | None = None
    courseOfTherapyType: CodeableConcept | None = None
    note: list[Annotation] | None = None
    dosageInstruction: list[Dosage] | None = None


class MedicationAdministrationPerformer(_Base, kw_only=True):
    function: CodeableConcept | None = None
    actor: Reference


class MedicationAdministrationDosage(_Checked, kw_only=True):
    _choices = (("rateRatio", "rateQuantity"),)
    text: String | None = None
    site: CodeableConcept | None = None
    route: CodeableConcept | None = None
    method: CodeableConcept | None = None
    dose: Quantity | None = None
    rateRatio: Ratio | None = None
    rateQuantity: Quantity | None = None


class MedicationAdministration(_DomainResource, kw_only=True):
    _convert = (("effectiveDateTime", _datetime),)
    _choices = (_MEDICATION, ("effectiveDateTime", "effectivePeriod"))
    _required = (_MEDICATION, ("effectiveDateTime", "effectivePeriod"))
    identifier: list[Identifier] | None = None
    partOf: list[Reference] | None = None
    status: Code
    statusReason: list[CodeableConcept] | None = None
    category: CodeableConcept | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    subject: Reference
    context: Reference | None = None
    supportingInformation: list[Reference] | None = None
    effectiveDateTime: DateTime | None = None
    effectivePeriod: Period | None = None
    performer: list[MedicationAdministrationPerformer] | None = None
    reasonCode: list[CodeableConcept] | None = None
    reasonReference: list[Reference] | None = None
    request: Reference | None = None
    device: list[Reference] | None = None
    note: list[Annotation] | None = None
    dosage: MedicationAdministrationDosage | None = None


class MedicationIngredient(_Checked, kw_only=True):
    _choices = (("itemCodeableConcept", "itemReference"),)
    _required = (("itemCodeableConcept", "itemReference"),)
    itemCodeableConcept: CodeableConcept | None = None
    itemReference: Reference | None = None
    isActive: Boolean | None = None
    strength: Ratio | None = None


class Medication(_DomainResource, kw_only=True):
    identifier: list[Identifier] | None = None
    code: CodeableConcept | None = None
    status: Code | None = None
    manufacturer: Reference | None = None
    form: CodeableConcept | None = None
    amount: Ratio | None = None
    ingredient: list[MedicationIngredient] | None = None


class ConsentProvision(_Base, kw_only=True):
    # actor, data and nested provisions are not modelled.
    type: Code | None = None
    period: Period | None = None
    action: list[CodeableConcept] | None = None
    securityLabel: list[Coding] | None = None
    purpose: list[Coding] | None = None
    code: list[CodeableConcept] | None = None
    dataPeriod: Period | None = None


class Consent(_DomainResource, kw_only=True):
    _convert = (("dateTime", _datetime),)
    identifier: list[Identifier] | None = None
    status: Code
    scope: CodeableConcept
    category: list[CodeableConcept]
    patient: Reference | None = None
    dateTime: DateTime | None = None
    performer: list[Reference] | None = None
    organization: list[Reference] | None = None
    sourceReference: Reference | None = None
    policyRule: CodeableConcept | None = None
    provision: ConsentProvision | None = None


class Coverage(_DomainResource, kw_only=True):
    identifier: list[Identifier] | None = None
    status: Code
    type: CodeableConcept | None = None
    policyHolder: Reference | None = None
    subscriber: Reference | None = None
    subscriberId: String | None = None
    beneficiary: Reference
    dependent: String | None = None
    relationship: CodeableConcept | None = None
    period: Period | None = None
    payor: list[Reference]
    order: PositiveInt | None = None
    network: String | None = None
    subrogation: Boolean | None = None
    contract: list[Reference] | None = None


class SpecimenCollection(_Checked, kw_only=True):
    _convert = (("collectedDateTime", _datetime),)
    _choices = (("collectedDateTime", "collectedPeriod"),
                ("fastingStatusCodeableConcept", "fastingStatusDuration"))
    collector: Reference | None = None
    collectedDateTime: DateTime | None = None
    collectedPeriod: Period | None = None
    duration: Duration | None = None
    quantity: Quantity | None = None
    method: CodeableConcept | None = None
    bodySite: CodeableConcept | None = None
    fastingStatusCodeableConcept: CodeableConcept | None = None
    fastingStatusDuration: Duration | None = None


class Specimen(_DomainResource, kw_only=True):
    _convert = (("receivedTime", _datetime),)
    identifier: list[Identifier] | None = None
    accessionIdentifier: Identifier | None = None
    status: Code | None = None
    type: CodeableConcept | None = None
    subject: Reference | None = None
    receivedTime: DateTime | None = None
    parent: list[Reference] | None = None
    request: list[Reference] | None = None
    collection: SpecimenCollection | None = None
    condition: list[CodeableConcept] | None = None
    note: list[Annotation] | None = None


# --- Bundle ---------------------------------------------------------------------------------------------


class BundleLink(_Base, kw_only=True):
    relation: String
    url: Uri


class BundleEntrySearch(_Checked, kw_only=True):
    _convert = (("score", _decimal),)
    mode: Code | None = None
    score: Decimal | None = None


class BundleEntryRequest(_Checked, kw_only=True):
    _convert = (("ifModifiedSince", _instant),)
    method: Code
    url: Uri
    ifNoneMatch: String | None = None
    ifModifiedSince: Instant | None = None
    ifMatch: String | None = None
    ifNoneExist: String | None = None


class BundleEntryResponse(_Checked, kw_only=True):
    # outcome (a resource) is not modelled.
    _convert = (("lastModified", _instant),)
    status: String
    location: Uri | None = None
    etag: String | None = None
    lastModified: Instant | None = None


class BundleEntry(_Base, kw_only=True):
    link: list[BundleLink] | None = None
    fullUrl: Uri | None = None
    search: BundleEntrySearch | None = None
    request: BundleEntryRequest | None = None
    response: BundleEntryResponse | None = None
    # Always None when decoded: ingest.fhir validates the Bundle without its resources, then sets each
    # entry's validated resource here.
    resource: None = None


class Bundle(_Resource, kw_only=True):
    _convert = (("timestamp", _instant),)
    identifier: Identifier | None = None
    type: Code
    timestamp: Instant | None = None
    total: UnsignedInt | None = None
    link: list[BundleLink] | None = None
    entry: list[BundleEntry] | None = None
    # signature is not modelled.


RESOURCES: dict[str, type[_Resource]] = {cls.__name__: cls for cls in (
    Patient, Observation, DiagnosticReport, Condition, Immunization, MedicationStatement, MedicationRequest,
    MedicationAdministration, Medication, Consent, Coverage, Specimen,
)}


def _convert(data: dict, cls: type) -> Any:
    try:
        return msgspec.convert(data, type=cls, strict=True)
    except (msgspec.ValidationError, ValueError, TypeError, OverflowError):
        return None


def _count(kind: str, found: Any) -> Any:
    (hits if found is not None else fallbacks)[kind] += 1
    return found


def read(data: dict) -> _Resource | None:
    """The fast model of one resource whose ``resourceType`` is known (``ingest.fhir`` checks it first),
    or None: not modelled, not valid, or the fast path is off."""
    if not ENABLED:
        return None
    kind = data.get("resourceType")
    if not isinstance(kind, str):
        return _count("?", None)
    cls = RESOURCES.get(kind)
    return _count(kind, None if cls is None else _convert(data, cls))


def read_bundle_shell(shell: dict) -> Bundle | None:
    """The fast model of a Bundle whose entries carry no ``resource``, or None (as ``read``)."""
    if not ENABLED:
        return None
    return _count("Bundle", _convert(shell, Bundle))


def explain(data: dict) -> str | None:
    """Why the fast path leaves ``data`` to fhir.resources (None when it reads it): for tests and the
    benchmark, never for answers to senders, since the text can name the sender's element names."""
    kind = data.get("resourceType")
    cls = Bundle if kind == "Bundle" else RESOURCES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return "resource type not modelled"
    entries = data.get("entry")
    if cls is Bundle and isinstance(entries, list) and all(isinstance(e, dict) for e in entries):
        data = {**data, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    try:
        msgspec.convert(data, type=cls, strict=True)
    except (msgspec.ValidationError, ValueError, TypeError, OverflowError) as exc:
        return str(exc)
    return None
