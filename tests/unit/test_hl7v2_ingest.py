"""HL7 v2 ORU^R01 to lab results, the refusals (InvalidHl7) and the ACK that answers them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.facts import Code, Qualitative, Quantity
from domain.record import current_facts
from ingest import hl7v2
from ingest.errors import InvalidHl7
from ingest.fhir import SubjectRef

MSH = "MSH|^~\\&|LABSYS|LAB-A|MYOCIT|SITE-A|20261127101500||ORU^R01^ORU_R01|MSG-0001|P|2.5.1"
PID = "PID|1||IPP-42^^^SITE-A&1.2.3&ISO^MR~SCR-9^^^MYOCIT^PI||Anonymous^Test||20130614|F"
OBR = "OBR|1|PLC-1|FIL-77|58410-2^CBC panel^LN|||20261127081000"


def oru(*obx: str, msh: str = MSH, pid: str | None = PID, obr: str = OBR, sep: str = "\r") -> str:
    segments = [msh] + ([pid] if pid else []) + [obr, *obx]
    return sep.join(segments) + sep


def obx(value: str = "12.1", *, vtype: str = "NM", code: str = "718-7^Hemoglobin^LN", sub: str = "1",
        unit: str = "g/dL^^UCUM", flags: str = "", status: str = "F", when: str = "") -> str:
    return f"OBX|1|{vtype}|{code}|{sub}|{value}|{unit}||{flags}|||{status}|||{when}"


def one(*segments: str, revision: int = 1, **kwargs):
    facts = hl7v2.extract_oru(oru(*segments, **kwargs), revision=revision).facts
    assert len(facts) == 1, facts
    return facts[0]


class TestMessage:
    def test_the_message_gives_control_id_facility_and_subject(self):
        out = hl7v2.extract_oru(oru(obx()), revision=3)
        assert (out.control_id, out.sending_facility, out.version) == ("MSG-0001", "LAB-A", "2.5.1")
        assert out.subject == SubjectRef("identifier", "IPP-42", None)
        assert out.identifiers == [("SITE-A", "IPP-42"), ("MYOCIT", "SCR-9")]

    @pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
    def test_any_segment_end_is_read(self, sep):
        assert len(hl7v2.extract_oru(oru(obx(), sep=sep), revision=1).facts) == 1

    def test_a_byte_order_mark_and_mllp_framing_are_tolerated(self):
        text = "\x0b\ufeff" + oru(obx()) + "\x1c\r"
        assert len(hl7v2.extract_oru(text.encode("utf-8"), revision=1).facts) == 1

    def test_the_source_names_facility_order_code_and_sub_id(self):
        fact = one(obx())
        assert fact.source == "hl7v2/LAB-A/FIL-77/718-7/1"
        assert fact.revision == 1

    def test_the_placer_order_stands_in_for_a_missing_filler(self):
        fact = one(obx(), obr="OBR|1|PLC-1||58410-2^CBC^LN|||20261127081000")
        assert fact.source == "hl7v2/LAB-A/PLC-1/718-7/1"


class TestValues:
    def test_a_number_with_its_unit(self):
        fact = one(obx("12.1"))
        assert fact.quantity == Quantity(12.1, "g/dL")
        assert fact.codes == (Code("loinc", "718-7"),)

    def test_a_french_count_in_g_per_litre(self):
        fact = one(obx("0.4", code="26474-7^Lymphocytes^LN", unit="G/L"))
        assert fact.quantity == Quantity(0.4, "G/L")

    @pytest.mark.parametrize("value, expected", [("<0.5", Quantity(0.5, "g/dL", "<")),
                                                 (">=100", Quantity(100, "g/dL", ">=")),
                                                 ("0,8", Quantity(0.8, "g/dL"))])
    def test_comparator_prefixes_and_decimal_commas(self, value, expected):
        assert one(obx(value)).quantity == expected

    @pytest.mark.parametrize("value, expected", [(">^11.0", Quantity(11.0, "g/dL", ">")),
                                                 ("^182", Quantity(182.0, "g/dL")),
                                                 ("<=^0.5", Quantity(0.5, "g/dL", "<="))])
    def test_structured_numbers(self, value, expected):
        assert one(obx(value, vtype="SN")).quantity == expected

    def test_a_structured_ratio_is_kept_as_text(self):
        fact = one(obx("^1^:^128", vtype="SN", unit=""))
        assert fact.quantity is None and fact.text == "1:128"

    @pytest.mark.parametrize("value, answer", [
        ("260373001^Detected^SCT", Qualitative.POSITIVE), ("260415000^Not detected^SCT", Qualitative.NEGATIVE),
        ("10828004^Positive^SCT", Qualitative.POSITIVE), ("260385009^Negative^SCT", Qualitative.NEGATIVE),
        ("42425007^Equivocal^SCT", Qualitative.EQUIVOCAL), ("82334004^Indeterminate^SCT", Qualitative.EQUIVOCAL),
        ("11214006^Reactive^SCT", Qualitative.POSITIVE), ("131194007^Non-reactive^SCT", Qualitative.NEGATIVE),
        ("L1^Not detected^L", Qualitative.NEGATIVE), ("^Positive", Qualitative.POSITIVE),
    ])
    def test_coded_answers(self, value, answer):
        fact = one(obx(value, vtype="CWE", code="4996-5^CMV DNA^LN", unit=""))
        assert fact.qualitative is answer and fact.quantity is None

    def test_text_answers(self):
        assert one(obx("Negative", vtype="ST", unit="")).qualitative is Qualitative.NEGATIVE
        fact = one(obx("see report", vtype="TX", unit=""))
        assert fact.qualitative is None and fact.text == "see report"

    @pytest.mark.parametrize("flags, answer", [("POS", Qualitative.POSITIVE), ("H~POS", Qualitative.POSITIVE),
                                               ("NEG", Qualitative.NEGATIVE), ("ND", Qualitative.NEGATIVE),
                                               ("DET", Qualitative.POSITIVE), ("IND", Qualitative.EQUIVOCAL),
                                               ("A", Qualitative.POSITIVE), ("N", Qualitative.NEGATIVE)])
    def test_abnormal_flags_stand_in_for_a_missing_answer(self, flags, answer):
        fact = one(obx("^see note", vtype="CWE", unit="", flags=flags))
        assert fact.qualitative is answer

    def test_abnormal_on_a_number_is_not_positive(self):
        assert one(obx("7.1", flags="A")).qualitative is None

    def test_the_alternate_triplet_gives_the_loinc_code(self):
        fact = one(obx(code="HGB^Haemoglobin^99LAB^718-7^Hemoglobin^LN"))
        assert fact.codes[0] == Code("loinc", "718-7")
        assert fact.source == "hl7v2/LAB-A/FIL-77/718-7/1"

    def test_a_local_code_is_kept_with_a_warning(self):
        out = hl7v2.extract_oru(oru(obx(code="HGB^Haemoglobin^L")), revision=1)
        assert out.facts[0].codes == (Code("hl7v2:L", "HGB"),)
        assert "not a LOINC code" in out.warnings[0]

    def test_the_specimen_segment_gives_specimen_and_sample(self):
        spm = "SPM|1|SP-1^FIL-77||119297000^Blood specimen^SCT"
        fact = one(obx("260415000^Not detected^SCT", vtype="CWE", code="4996-5^CMV^LN", unit=""), spm)
        assert (fact.specimen, fact.sample) == ("Blood specimen", "hl7v2/LAB-A/specimen/SP-1")


class TestTimes:
    def test_the_observation_time_wins_and_is_read_as_written(self):
        fact = one(obx(when="20261126233000-0500"))
        assert fact.on == date(2026, 11, 26)
        assert fact.seq == "2026-11-26T23:30:00"

    def test_the_request_time_stands_in(self):
        fact = one(obx())
        assert (fact.on, fact.seq) == (date(2026, 11, 27), "2026-11-27T08:10:00")

    def test_a_date_only_timestamp(self):
        assert one(obx(when="20261125")).on == date(2026, 11, 25)


class TestStatuses:
    @pytest.mark.parametrize("flag, status", [("F", "final"), ("C", "corrected"), ("P", "preliminary"),
                                              ("D", "entered-in-error"), ("W", "entered-in-error"),
                                              ("X", "cancelled")])
    def test_obx_11_maps_to_a_status(self, flag, status):
        assert one(obx(status=flag)).status == status

    def test_a_deletion_needs_no_value(self):
        assert one(obx("", status="D")).status == "entered-in-error"

    def test_pending_results_are_skipped(self):
        out = hl7v2.extract_oru(oru(obx("", status="I")), revision=1)
        assert out.facts == [] and "pending" in out.warnings[0]

    def test_a_correction_supersedes_the_original(self):
        first = hl7v2.extract_oru(oru(obx("7.5")), revision=1).facts
        fixed = hl7v2.extract_oru(oru(obx("9.5", status="C")), revision=2).facts
        [kept] = current_facts(first + fixed)
        assert kept.quantity.value == 9.5 and kept.status == "corrected"

    def test_a_deletion_retracts_the_result(self):
        first = hl7v2.extract_oru(oru(obx("7.5")), revision=1).facts
        gone = hl7v2.extract_oru(oru(obx("", status="W")), revision=2).facts
        assert current_facts(first + gone) == []


class TestRefusals:
    @pytest.mark.parametrize("text, ack_code, error_code, location", [
        ("PID|1||X", "AR", 100, "MSH^1"),
        ("", "AR", 100, "MSH^1"),
        (oru(obx(), msh=MSH.replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")), "AR", 200, "MSH^1^9"),
        (oru(obx(), pid=None), "AE", 100, "PID^1"),
        (oru(obx(), pid="PID|1||^^^SITE-A^MR"), "AE", 101, "PID^1^3"),
        (oru(obx(code="")), "AE", 101, "OBX^1^3"),
        (oru(obx("")), "AE", 101, "OBX^1^5"),
        (oru(obx("high")), "AE", 102, "OBX^1^5"),
        (oru(obx(when="2026-11-27")), "AE", 102, "OBX^1^14"),
        (oru(obx(when="20260230")), "AE", 102, "OBX^1^14"),
        (oru(obx(status="")), "AE", 101, "OBX^1^11"),
        (oru(obx(status="Q")), "AE", 103, "OBX^1^11"),
        (oru(obx(), obr="OBR|1|||58410-2^CBC^LN|||20261127"), "AE", 101, "OBR^1^3"),
        (oru(obx(), obr="OBR|1||FIL-1|58410-2^CBC^LN"), "AE", 101, "OBR^1^7"),
    ])
    def test_invalid_messages_are_refused_with_an_ack_code(self, text, ack_code, error_code, location):
        with pytest.raises(InvalidHl7) as caught:
            hl7v2.extract_oru(text, revision=1)
        error = caught.value
        assert (error.ack_code, error.error_code, error.location) == (ack_code, error_code, location)
        assert "\n" not in str(error) and "\r" not in str(error)

    def test_a_refusal_never_quotes_the_patient(self):
        with pytest.raises(InvalidHl7) as caught:
            hl7v2.extract_oru(oru(obx("Anonymous")), revision=1)
        assert "Anonymous" not in str(caught.value)


class TestAck:
    NOW = datetime(2026, 11, 27, 10, 16, tzinfo=UTC)

    def segments(self, text: str) -> list[list[str]]:
        assert text.endswith("\r")
        return [s.split("|") for s in text.rstrip("\r").split("\r")]

    def test_an_accepted_message_gets_aa_without_err(self):
        text = hl7v2.ack(hl7v2.parse_message(oru(obx())), "AA", now=self.NOW, control_id="ACK-1")
        msh, msa = self.segments(text)
        assert msh[:12] == ["MSH", "^~\\&", "MYOCIT", "MYOCIT", "LABSYS", "LAB-A", "20261127101600+0000", "",
                            "ACK^R01^ACK", "ACK-1", "P", "2.5.1"]
        assert msa[:3] == ["MSA", "AA", "MSG-0001"]

    def test_a_refused_message_gets_an_err_segment(self):
        message = oru(obx("high"))
        with pytest.raises(InvalidHl7) as caught:
            hl7v2.extract_oru(message, revision=1)
        text = hl7v2.ack_error(message, caught.value, now=self.NOW)
        _msh, msa, err = self.segments(text)
        assert msa[:3] == ["MSA", "AE", "MSG-0001"]
        assert err[2:5] == ["OBX^1^5", "102^Data type error^HL70357", "E"]

    def test_an_unreadable_message_is_still_answered(self):
        text = hl7v2.ack(None, "AR", "not HL7", "MSH^1", error_code=100, now=self.NOW)
        _msh, msa, err = self.segments(text)
        assert msa[:3] == ["MSA", "AR", ""] and err[3].startswith("100^")

    def test_text_is_escaped(self):
        text = hl7v2.ack("garbage", "AE", "a|b^c", now=self.NOW)
        assert "a\\F\\b\\S\\c" in text

    @pytest.mark.parametrize(
        ("msh", "control_id", "sender"),
        [
            # Another field separator: a "|" inside MSH-10 or MSH-3 is data there, not a field of ours.
            ("MSH#^~\\&#LAB|SYS#LAB-A#MYOCIT#MYOCIT#20261127101600##ORU^R01#ID|7#P#2.5.1",
             "ID\\F\\7", "LAB\\F\\SYS"),
            # Another component separator: our "^" inside MSH-10 is escaped, its own components become ours.
            ("MSH|$~\\&|LAB$SYS|LAB-A|MYOCIT|MYOCIT|20261127101600||ORU$R01|A^B$2|P|2.5.1",
             "A\\S\\B^2", "LAB^SYS"),
            # The sender's escapes are read, then written in ours.
            ("MSH|^~\\&|LABSYS|LAB-A|MYOCIT|MYOCIT|20261127101600||ORU^R01|X\\F\\Y~Z|P|2.5.1",
             "X\\F\\Y", "LABSYS"),
        ],
    )
    def test_fields_echoed_from_the_message_are_escaped_in_the_acks_separators(self, msh, control_id, sender):
        text = hl7v2.ack(msh + "\r", "AE", "refused", now=self.NOW, control_id="ACK-1")
        ack_msh, msa, _err = self.segments(text)
        assert len(ack_msh) == 12 and ack_msh[4] == sender and ack_msh[9] == "ACK-1"
        assert msa[:4] == ["MSA", "AE", control_id, "refused"]

    def test_the_ack_code_is_checked(self):
        with pytest.raises(ValueError):
            hl7v2.ack(None, "OK", now=datetime(2026, 12, 1, tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["|", "^", "~", "&", "\\", "\r", "OBX", "OBR", "PID", "F", "NM", "1", "x", "",
                                 "718-7", "LN", "2026"]), max_size=40))
def test_any_text_after_msh_is_either_read_or_refused_with_an_ack(parts):
    text = oru(obx()) + "".join(parts)
    try:
        hl7v2.extract_oru(text, revision=1)
    except InvalidHl7 as error:
        assert error.ack_code in ("AE", "AR")
        hl7v2.ack_error(text, error, now=datetime(2026, 12, 1, tzinfo=UTC))
