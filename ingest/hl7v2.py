"""HL7 v2 ORU^R01 (ER7 text) in, lab results out; and the ACK that answers it (contract §2, §5).

One message holds one patient (the first PID); each OBX becomes a ``LabResult`` whose ``source`` is
``hl7v2/{sending facility}/{filler order (OBR-3), else placer (OBR-2)}/{OBX-3 code}/{OBX-4 sub-id}``,
so that a correction of the same result (OBX-11 C, with the caller's higher ``revision``) replaces it
and a deletion (D/W) retracts it. Timestamps without an offset are the local time of the sites
(``MYOCIT_TIMEZONE``, the zone the screening day is decided in), so their date is the day as written;
with an offset, the date as written too, as for FHIR dateTimes (``seq`` keeps the written local time for
ordering within a day); a date-only value is that day.

Bytes become text by MSH-18 (contract §6): ``ASCII``, ``8859/1`` (and the other ISO 8859 parts) or
``UNICODE UTF-8``; without it, UTF-8, else Latin-1 when the bytes are not valid UTF-8 (``decode``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import hl7
from hl7.exceptions import HL7Exception

from domain.facts import Code, LabResult, Qualitative, Quantity
from ingest.bounds import MAX_CONTROL_ID, date_in_range
from ingest.errors import InvalidHl7, one_line
from ingest.fhir import SubjectRef
from ingest.systems import answer_in_words, answer_of, flag_answer, hl7v2_alias

STATUS = {"F": "final", "C": "corrected", "D": "entered-in-error", "W": "entered-in-error",
          "P": "preliminary", "R": "preliminary", "S": "preliminary", "X": "cancelled"}
"""OBX-11 (HL7 table 0085) to the FHIR-like status the domain reads."""
NO_RESULT = {"I": "results pending", "N": "not asked", "U": "made final without the result", "O": "order only"}
"""OBX-11 values that carry no result: the OBX is skipped with a warning."""
NUMERIC = frozenset({"NM", "SN"})
CODED = frozenset({"CWE", "CE", "CNE", "CF"})
TEXT = frozenset({"ST", "TX", "FT"})
_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")
_NUMBER = re.compile(r"^([<>]=?|=)?\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))$")


@dataclass(slots=True)
class Hl7Extract:
    control_id: str
    sending_facility: str
    subject: SubjectRef
    facts: list = field(default_factory=list)
    identifiers: list[tuple[str | None, str]] = field(default_factory=list)
    """Every PID-3 repetition: (assigning authority or None, id)."""
    version: str = ""
    warnings: list[str] = field(default_factory=list)


# --- characters ------------------------------------------------------------------------------------

CHARACTER_SETS = {"ASCII": "ascii", "UNICODE UTF-8": "utf-8", "8859/15": "iso8859-15",
                  **{f"8859/{n}": f"iso8859-{n}" for n in range(1, 10)}}
"""MSH-18 (HL7 table 0211) values read, to Python codecs: those whose MSH is readable as ASCII."""
DEFAULT_CHARACTER_SET = "utf-8"


def declared_character_set(raw: bytes) -> str | None:
    """MSH-18 (its first repetition) as written, or None when absent or the MSH cannot be found."""
    start = 0
    while start < len(raw) and raw[start] in b"\xef\xbb\xbf\x0b\r\n\t ":
        start += 1
    head = raw[start:start + 4096]
    if not head.startswith(b"MSH") or len(head) < 8:
        return None
    separator = head[3:4]
    line = head.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = line.split(separator)
    if len(fields) < 18:
        return None
    repetition = fields[1][1:2] or b"~"
    value = fields[17].split(repetition, 1)[0].strip()
    return value.decode("ascii", "replace").upper() or None


def decode(raw: bytes) -> tuple[str, str]:
    """(text, codec) of a message's bytes, by MSH-18; InvalidHl7 AR when MSH-18 names a character set
    not read here, or the bytes do not fit the one it names (never guessed: a text result read in
    the wrong character set would be another result)."""
    declared = declared_character_set(raw)
    if declared is None:
        try:
            return raw.decode("utf-8-sig"), DEFAULT_CHARACTER_SET
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"
    codec = CHARACTER_SETS.get(declared)
    if codec is None:
        raise InvalidHl7("MSH-18: this character set is not read here (ASCII, 8859/1, UNICODE UTF-8)",
                         ack_code="AR", error_code=103, location="MSH^1^18")
    try:
        return raw.decode("utf-8-sig" if codec == "utf-8" else codec), codec
    except UnicodeDecodeError:
        raise InvalidHl7(f"MSH-18: the message has bytes that are not {declared}", ack_code="AR",
                         error_code=102, location="MSH^1^18") from None


SENDER_NAME_LENGTH = 60


def sender_of(message: hl7.Message) -> tuple[str, str]:
    """(MSH-3, MSH-4), first components: the sending application and facility (contract §6)."""
    msh = _Seg(message, message[0], 1)
    application, facility = msh.get(3, 1), msh.get(4, 1)
    for n, value in ((3, application), (4, facility)):
        if len(value) > SENDER_NAME_LENGTH:
            raise InvalidHl7(f"MSH-{n}: its first component is longer than {SENDER_NAME_LENGTH} characters",
                             ack_code="AR", error_code=102, location=f"MSH^1^{n}")
    return application, facility


# --- parsing ---------------------------------------------------------------------------------------


def _normalise(text: str | bytes) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            text = bytes(text).decode("latin-1")
    text = text.strip("\ufeff\r\n\t \x0b\x1c")
    return text.replace("\r\n", "\r").replace("\n", "\r")


def parse_message(text: str | bytes) -> hl7.Message:
    """The parsed message (CR, LF or CRLF segment ends; a UTF-8 BOM and MLLP framing tolerated)."""
    clean = _normalise(text)
    if not clean.startswith("MSH") or len(clean) < 8:
        raise InvalidHl7("not an HL7 v2 message: it does not start with an MSH segment", ack_code="AR",
                         error_code=100, location="MSH^1")
    _check_delimiters(clean)
    if "\x00" in clean:
        # PostgreSQL stores no NUL in text: refused here, never acknowledged by one store and not another.
        raise InvalidHl7("the message holds a NUL character", ack_code="AR", error_code=102, location="MSH^1")
    try:
        return hl7.parse(clean)
    except (HL7Exception, LookupError, ValueError, TypeError, AssertionError) as exc:
        raise InvalidHl7(f"unreadable HL7 v2 message ({type(exc).__name__})", ack_code="AR", error_code=100,
                         location="MSH^1") from None


def _check_delimiters(clean: str) -> None:
    """MSH-1 and MSH-2: a field separator and 4 (or, from v2.7, 5) encoding characters, all distinct
    and none a letter, digit or space; any others may be chosen by the sender."""
    field_sep = clean[3]
    encoding = clean[4:].split(field_sep, 1)[0] if field_sep in clean[4:] else clean[4:]
    chars = field_sep + encoding
    if len(encoding) not in (4, 5) or len(set(chars)) != len(chars) \
            or any(c.isalnum() or c.isspace() for c in chars):
        raise InvalidHl7("MSH-1 and MSH-2: the delimiters must be a field separator and 4 or 5 distinct "
                         "encoding characters, none a letter, digit or space", ack_code="AR", error_code=102,
                         location="MSH^1^2")


class _Seg:
    """One segment's fields as text, split on the message's own separators."""

    def __init__(self, message: hl7.Message, segment: hl7.Segment, seq: int) -> None:
        self.message = message
        self.segment = segment
        self.name = str(segment[0])
        self.seq = seq
        seps = message.separators  # segment, field, repetition, component, subcomponent
        self.rep, self.comp, self.sub = (seps[2], seps[3], seps[4]) if len(seps) >= 5 else ("~", "^", "&")

    def raw(self, n: int) -> str:
        return str(self.segment[n]) if n < len(self.segment) else ""

    def reps(self, n: int) -> list[str]:
        return [r for r in self.raw(n).split(self.rep)]

    def comps(self, n: int, rep: int = 0) -> list[str]:
        reps = self.reps(n)
        value = reps[rep] if rep < len(reps) else ""
        return [self.message.unescape(c) if "\\" in c else c for c in value.split(self.comp)]

    def get(self, n: int, comp: int = 1, rep: int = 0) -> str:
        parts = self.comps(n, rep)
        value = parts[comp - 1] if comp - 1 < len(parts) else ""
        return value.split(self.sub)[0].strip()

    def where(self, n: int) -> str:
        return f"{self.name}^{self.seq}^{n}"


def _segments(message: hl7.Message) -> list[_Seg]:
    counts: dict[str, int] = {}
    out = []
    for segment in message:
        name = str(segment[0])
        counts[name] = counts.get(name, 0) + 1
        out.append(_Seg(message, segment, counts[name]))
    return out


# --- values ------------------------------------------------------------------------------------------


def _timestamp(value: str, seg: _Seg, n: int) -> tuple[date, str]:
    """(date as written, seq) of an HL7 TS/DTM; InvalidHl7 AE 102 when it is not a full date."""
    text = value.strip()
    match = _TS.match(text)
    if not match:
        raise InvalidHl7(f"{seg.name}-{n}: not a timestamp with a full date (YYYYMMDD...)", error_code=102,
                         location=seg.where(n))
    year, month, day, hour, minute, second, frac, _offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        raise InvalidHl7(f"{seg.name}-{n}: no such date", error_code=102, location=seg.where(n)) from None
    if not date_in_range(moment.date()):
        raise InvalidHl7(f"{seg.name}-{n}: a date before 1900 or after 2200", error_code=102,
                         location=seg.where(n))
    seq = moment.strftime("%Y-%m-%dT%H:%M:%S") + (frac or "") if hour else ""
    return moment.date(), seq


def _number(text: str, seg: _Seg, n: int) -> tuple[float, str | None]:
    match = _NUMBER.match(text.strip())
    if not match:
        raise InvalidHl7(f"{seg.name} {seg.seq}: OBX-5 is not a number", error_code=102, location=seg.where(n))
    comparator, digits = match.groups()
    return float(digits.replace(",", ".")), (None if comparator in (None, "=") else comparator)


def _structured(parts: list[str], seg: _Seg) -> tuple[float | None, str | None, str | None]:
    """SN: comparator ^ num1 ^ separator ^ num2. (value, comparator, text for ranges and ratios)."""
    comparator, num1, separator, num2 = (parts + ["", "", "", ""])[:4]
    comparator = comparator.strip() or None
    if separator.strip() or num2.strip():
        return None, None, f"{comparator or ''}{num1}{separator}{num2}"
    if comparator not in (None, "<", ">", "<=", ">=", "=", "<>"):
        raise InvalidHl7(f"OBX {seg.seq}: OBX-5 comparator is not one of < > <= >= = <>", error_code=102,
                         location=seg.where(5))
    value, _ = _number(num1, seg, 5)
    if comparator == "<>":
        return None, None, f"<>{num1}"
    return value, (None if comparator in (None, "=") else comparator), None


def _unit(seg: _Seg) -> str:
    parts = seg.comps(6)
    return (parts[0].strip() or (parts[1].strip() if len(parts) > 1 else "")) if parts else ""


def _test_codes(seg: _Seg) -> tuple[tuple[Code, ...], str | None]:
    """OBX-3: its LOINC code (primary or alternate triplet) first, then the other codings."""
    parts = seg.comps(3) + [""] * 6
    codes: list[Code] = []
    for code, system in ((parts[0], parts[2]), (parts[3], parts[5])):
        if code.strip():
            codes.append(Code(hl7v2_alias(system), code.strip()))
    codes.sort(key=lambda c: c.system != "loinc")
    return tuple(codes), None


def _coded_answer(seg: _Seg) -> tuple[Qualitative | None, str | None]:
    parts = seg.comps(5) + [""] * 6
    answer = None
    for code, system in ((parts[0], parts[2]), (parts[3], parts[5])):
        if code.strip():
            answer = answer or answer_of(Code(hl7v2_alias(system), code.strip()))
    text = parts[1].strip() or parts[4].strip() or parts[0].strip() or None
    if answer is None:
        answer = answer_in_words(parts[1]) or answer_in_words(parts[4]) or answer_in_words(parts[0])
    return answer, text


# --- extraction --------------------------------------------------------------------------------------


def _clean(part: str) -> str:
    return part.replace("/", "_").strip() or "-"


def _message_type(msh: _Seg) -> None:
    kind, event = msh.get(9, 1), msh.get(9, 2)
    if (kind, event) != ("ORU", "R01"):
        # Only what has the form of an HL7 message type is repeated back (ADT^A01), never free text.
        shown = f"{kind}^{event}" if event else kind or "none"
        shown = shown if re.fullmatch(r"[A-Z0-9]{1,3}(\^[A-Z0-9]{1,3})?|none", shown) else "given"
        raise InvalidHl7(f"MSH-9: the message type {shown} is not supported (only ORU^R01)", ack_code="AR",
                         error_code=200, location="MSH^1^9")


DEFAULT_MAX_RESULTS = 1000
DEFAULT_MAX_SEGMENTS = 2000
"""MYOCIT_MAX_SEGMENTS_PER_MESSAGE: a message of more segments is answered AR before it is parsed."""


def extract_oru(message: hl7.Message | str | bytes, *, revision: int,
                max_results: int = DEFAULT_MAX_RESULTS) -> Hl7Extract:
    """The lab results of one ORU^R01 message (parsed, or its text), every fact at ``revision``. A message
    of more than ``max_results`` OBX segments is refused (AR) before any is read."""
    if not isinstance(message, hl7.Message):
        message = parse_message(message)
    segments = _segments(message)
    msh = segments[0]
    _message_type(msh)
    results = sum(1 for s in segments if s.name == "OBX")
    if results > max_results:
        raise InvalidHl7(f"more than {max_results} OBX segments in one message", ack_code="AR",
                         error_code=100, location="OBX^1")
    if len(msh.get(10, 1)) > MAX_CONTROL_ID:
        raise InvalidHl7(f"MSH-10: message control id longer than {MAX_CONTROL_ID} characters", ack_code="AR",
                         error_code=102, location="MSH^1^10")
    facility = msh.get(4, 1) or msh.get(4, 2) or msh.get(3, 1) or "unknown"
    pids = [s for s in segments if s.name == "PID"]
    if not pids:
        raise InvalidHl7("no PID segment", error_code=100, location="PID^1")
    if len(pids) > 1:
        raise InvalidHl7("more than one PID: send one patient per message", error_code=100,
                         location="PID^2")
    pid = pids[0]
    patient = pid.get(3, 1)
    if not patient:
        raise InvalidHl7("PID-3: patient identifier is missing", error_code=101, location=pid.where(3))
    identifiers = []
    for i, _ in enumerate(pid.reps(3)):
        value = pid.get(3, 1, i)
        if value:
            identifiers.append((pid.get(3, 4, i) or None, value))
    out = Hl7Extract(
        control_id=msh.get(10, 1),
        sending_facility=facility,
        subject=SubjectRef("identifier", patient, None),
        identifiers=identifiers,
        version=msh.get(12, 1),
    )
    for group in _order_groups(segments):
        out.facts.extend(_group_facts(group, facility, revision, out.warnings))
    return out


def _order_groups(segments: list[_Seg]) -> list[list[_Seg]]:
    groups: list[list[_Seg]] = []
    current: list[_Seg] | None = None
    for seg in segments:
        if seg.name == "OBR":
            current = [seg]
            groups.append(current)
        elif seg.name in ("OBX", "SPM", "ORC"):
            if seg.name == "OBX" and current is None:
                raise InvalidHl7(f"OBX {seg.seq} comes before any OBR", error_code=100, location=seg.where(1))
            if current is not None and seg.name != "ORC":
                current.append(seg)
    return groups


def _group_facts(group: list[_Seg], facility: str, revision: int, warnings: list[str]) -> list[LabResult]:
    obr = group[0]
    order = obr.get(3, 1) or obr.get(2, 1)
    if not order:
        raise InvalidHl7(f"OBR {obr.seq}: no filler (OBR-3) or placer (OBR-2) order number", error_code=101,
                         location=obr.where(3))
    spm = next((s for s in group if s.name == "SPM"), None)
    specimen = None
    sample = f"hl7v2/{_clean(facility)}/{_clean(order)}"
    if spm is not None:
        specimen = spm.get(4, 2) or spm.get(4, 1) or None
        sample_id = spm.get(2, 1) or spm.get(2, 2)
        if sample_id:
            sample = f"hl7v2/{_clean(facility)}/specimen/{_clean(sample_id)}"
    elif obr.raw(15):
        specimen = obr.get(15, 1) or obr.get(15, 2) or None
    obr_time = obr.get(7, 1)
    facts = []
    for obx in (s for s in group if s.name == "OBX"):
        fact = _obx_fact(obx, obr_time, obr, facility, order, revision, specimen, sample, warnings)
        if fact is not None:
            facts.append(fact)
    return facts


def _obx_fact(obx: _Seg, obr_time: str, obr: _Seg, facility: str, order: str, revision: int,
              specimen: str | None, sample: str, warnings: list[str]) -> LabResult | None:
    label = f"OBX {obx.seq}"
    codes, _ = _test_codes(obx)
    if not codes:
        raise InvalidHl7(f"{label}: OBX-3 observation identifier is missing", error_code=101,
                         location=obx.where(3))
    flag = obx.get(11, 1).upper()
    if not flag:
        raise InvalidHl7(f"{label}: OBX-11 result status is missing", error_code=101, location=obx.where(11))
    if flag in NO_RESULT:
        warnings.append(f"{label}: status {flag} ({NO_RESULT[flag]}): skipped")
        return None
    if flag not in STATUS:
        raise InvalidHl7(f"{label}: OBX-11 status is not in HL7 table 0085", error_code=103,
                         location=obx.where(11))
    status = STATUS[flag]
    retracting = status in ("entered-in-error", "cancelled")
    if obx.get(14, 1):
        day, seq = _timestamp(obx.get(14, 1), obx, 14)
    elif obr_time:
        day, seq = _timestamp(obr_time, obr, 7)
    else:
        raise InvalidHl7(f"{label}: no observation time (OBX-14 or OBR-7)", error_code=101,
                         location=obr.where(7))
    vtype = obx.get(2, 1).upper()
    raw_value = obx.raw(5)
    quantity = answer = text = None
    if not raw_value.strip() and not retracting and vtype not in NUMERIC:
        warnings.append(f"{label}: empty {vtype or 'untyped'} value (an unanswered question): skipped")
        return None
    if not raw_value.strip():
        if not retracting:
            raise InvalidHl7(f"{label}: OBX-5 observation value is missing", error_code=101,
                             location=obx.where(5))
    elif vtype == "NM":
        value, comparator = _number(obx.get(5, 1), obx, 5)
        quantity = Quantity(value, _unit(obx), comparator)
    elif vtype == "SN":
        value, comparator, text = _structured(obx.comps(5), obx)
        if value is not None:
            quantity = Quantity(value, _unit(obx), comparator)
    elif vtype in CODED:
        answer, text = _coded_answer(obx)
    elif vtype in TEXT or not vtype:
        text = " ".join(obx.message.unescape(r) for r in obx.reps(5)).strip()
        answer = answer_in_words(text)
    else:
        text = obx.get(5, 1)
    if answer is None:
        flags = [obx.get(8, 1, i) for i in range(len(obx.reps(8)))]
        answer = flag_answer(flags, numeric=quantity is not None)
    code = codes[0].code
    source = f"hl7v2/{_clean(facility)}/{_clean(order)}/{_clean(code)}/{obx.get(4, 1)}"
    if codes[0].system != "loinc":
        warnings.append(f"{label}: code {code[:30]} is not a LOINC code (LN)")
    return LabResult(source, day, codes, status, quantity, answer, text or None, specimen, sample, revision, seq)


# --- acknowledgement -------------------------------------------------------------------------------


def _esc(text: str) -> str:
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    return out.replace("~", "\\R\\").replace("&", "\\T\\")


ERROR_TEXT = {0: "Message accepted", 100: "Segment sequence error", 101: "Required field missing",
              102: "Data type error", 103: "Table value not found", 200: "Unsupported message type",
              207: "Application internal error"}


def ack(message: hl7.Message | str | bytes | None, code: str, text: str = "",
        error_location: str | None = None, *, now: datetime, error_code: int | None = None,
        control_id: str | None = None) -> str:
    """An ACK^R01 answering ``message`` (parsed, raw text, or None when unreadable): MSA with ``code``
    (AA, AE, AR) and, for AE/AR, an ERR with the location (ERL), the HL7 error code and severity E.
    ``now`` (the service's clock, never read here) dates it. Segments end with CR."""
    if code not in ("AA", "AE", "AR"):
        raise ValueError(f"ack code must be AA, AE or AR, not {code!r}")
    original = _original(message)
    msh = original[0] if original else None

    def field_of(n: int) -> str:
        return _in_our_separators(msh, n) if msh is not None else ""

    moment = now.strftime("%Y%m%d%H%M%S%z")
    ours = control_id or uuid.uuid4().hex[:20]
    version = (msh.get(12, 1) if msh is not None else "") or "2.5.1"
    processing = (msh.get(11, 1) if msh is not None else "") or "P"
    lines = [
        "|".join(["MSH", "^~\\&", "MYOCIT", "MYOCIT", field_of(3), field_of(4), moment, "", "ACK^R01^ACK",
                  ours, processing, version]),
        "|".join(["MSA", code, field_of(10), _esc(one_line(text))[:80]]),
    ]
    if code != "AA":
        number = error_code if error_code is not None else 207
        cwe = f"{number}^{ERROR_TEXT.get(number, 'Error')}^HL70357"
        lines.append("|".join(["ERR", "", error_location or "", cwe, "E", "", "", "",
                               _esc(one_line(text))[:250]]))
    return "\r".join(lines) + "\r"


def _in_our_separators(seg: _Seg, n: int) -> str:
    """A field of the sender's message written with the ACK's separators: a sender's own separators
    (MSH-1, MSH-2) may differ from ours, and an echoed field carrying one of ours would add fields or
    components to the ACK, so every separator character inside a value is escaped."""
    first = seg.reps(n)[0] if seg.reps(n) else ""
    components = []
    for component in first.split(seg.comp):
        parts = [seg.message.unescape(p) if "\\" in p else p for p in component.split(seg.sub)]
        components.append("&".join(_esc(p) for p in parts))
    return "^".join(components)


def ack_error(message: hl7.Message | str | bytes | None, error: InvalidHl7, **kwargs) -> str:
    """The ACK (AE or AR, with ERR) that refuses ``message`` for ``error``."""
    return ack(message, error.ack_code, str(error), error.location, error_code=error.error_code, **kwargs)


def _original(message: hl7.Message | str | bytes | None) -> list[_Seg] | None:
    if message is None:
        return None
    if not isinstance(message, hl7.Message):
        try:
            message = parse_message(message)
        except InvalidHl7:
            return None
    segments = _segments(message)
    return segments if segments and segments[0].name == "MSH" else None


def check_segments(text: str, limit: int = DEFAULT_MAX_SEGMENTS) -> None:
    """AR for a message of more than ``limit`` segments, counted before anything parses it: a few
    megabytes of tiny segments would otherwise cost the parser seconds of CPU (contract §6)."""
    segments = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r").count("\r") + 1
    if segments > limit:
        raise InvalidHl7(f"more than {limit} segments in one message", ack_code="AR", error_code=100,
                         location="MSH^1")
