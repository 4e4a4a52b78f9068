"""Code systems and coded answers: from what senders write to what the domain reads.

Code system URIs (FHIR) and HL7 v2 coding-system names (table 0396) map to the short aliases the
protocol's code lists use (``loinc``, ``snomed``, ``icd10``, ``atc``, ``cvx``, ``myocit-assessment``).
A system with no alias is kept as written, so its codes stay visible but match no list.
"""

from __future__ import annotations

from domain.facts import Code, Qualitative

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
MYOCIT_ASSESSMENT = "urn:myocit:assessment"
MYOCIT_CRITERION = "urn:myocit:criterion"
MYOCIT_VERDICT = "urn:myocit:verdict"
MYOCIT_COVERAGE = "urn:myocit:coverage"

_FHIR_ALIASES = {
    LOINC: "loinc",
    "urn:oid:2.16.840.1.113883.6.1": "loinc",
    SNOMED: "snomed",
    "urn:oid:2.16.840.1.113883.6.96": "snomed",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10",
    "http://hl7.org/fhir/sid/icd-10-fr": "icd10",
    "https://smt.esante.gouv.fr/terminologie-cim-10": "icd10",
    "https://smt.esante.gouv.fr/terminologie-cim-10/": "icd10",
    "urn:oid:2.16.840.1.113883.6.3": "icd10",
    "urn:oid:2.16.840.1.113883.6.90": "icd10",
    "urn:oid:1.2.250.1.213.2.8": "icd10",  # CIM-10 (ATIH), French OID
    "http://www.whocc.no/atc": "atc",
    "urn:oid:2.16.840.1.113883.6.73": "atc",
    "http://hl7.org/fhir/sid/cvx": "cvx",
    "urn:oid:2.16.840.1.113883.12.292": "cvx",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    MYOCIT_ASSESSMENT: "myocit-assessment",
}

_HL7V2_ALIASES = {
    "LN": "loinc",
    "LOINC": "loinc",
    "SCT": "snomed",
    "SNM": "snomed",
    "SNOMED": "snomed",
    "SNOMED-CT": "snomed",
    "I10": "icd10",
    "I10C": "icd10",
    "ICD10": "icd10",
    "ICD10CM": "icd10",
    "CVX": "cvx",
    "ATC": "atc",
    "WC": "atc",
}


def fhir_alias(system: str | None) -> str:
    """The alias of a FHIR code system URI, or the URI itself ("" when absent)."""
    if not system:
        return ""
    return _FHIR_ALIASES.get(system.strip(), system.strip())


def hl7v2_alias(system: str | None) -> str:
    """The alias of an HL7 v2 coding system name, or ``hl7v2:<name>`` (``hl7v2:local`` when empty)."""
    name = (system or "").strip()
    return _HL7V2_ALIASES.get(name.upper()) or f"hl7v2:{name or 'local'}"


_SNOMED_ANSWERS = {
    "260373001": Qualitative.POSITIVE,  # Detected
    "10828004": Qualitative.POSITIVE,  # Positive
    "11214006": Qualitative.POSITIVE,  # Reactive
    "77386006": Qualitative.POSITIVE,  # Pregnant
    "413712001": Qualitative.POSITIVE,  # Breastfeeding (mother)
    "260415000": Qualitative.NEGATIVE,  # Not detected
    "260385009": Qualitative.NEGATIVE,  # Negative
    "131194007": Qualitative.NEGATIVE,  # Non-reactive
    "60001007": Qualitative.NEGATIVE,  # Not pregnant
    "42425007": Qualitative.EQUIVOCAL,  # Equivocal
    "82334004": Qualitative.EQUIVOCAL,  # Indeterminate
}
_LOINC_ANSWERS = {
    "LA6576-8": Qualitative.POSITIVE,  # Positive
    "LA11882-0": Qualitative.POSITIVE,  # Detected
    "LA15173-0": Qualitative.POSITIVE,  # Pregnant
    "LA6577-6": Qualitative.NEGATIVE,  # Negative
    "LA11883-8": Qualitative.NEGATIVE,  # Not detected
    "LA26683-5": Qualitative.NEGATIVE,  # Not pregnant
    "LA11884-6": Qualitative.EQUIVOCAL,  # Indeterminate
}
ANSWERS = {"snomed": _SNOMED_ANSWERS, "loinc": _LOINC_ANSWERS}

_WORDS = {
    Qualitative.POSITIVE: ("positive", "pos", "detected", "reactive", "present", "pregnant", "breastfeeding"),
    Qualitative.NEGATIVE: ("negative", "neg", "not detected", "undetected", "non-reactive", "nonreactive",
                           "non reactive", "absent", "not pregnant", "none detected"),
    Qualitative.EQUIVOCAL: ("equivocal", "indeterminate", "borderline", "inconclusive", "weakly reactive"),
}
_BY_WORD = {word: answer for answer, words in _WORDS.items() for word in words}

# v3-ObservationInterpretation and HL7 v2 table 0078 share these codes.
STRONG_FLAGS = {
    "POS": Qualitative.POSITIVE,
    "DET": Qualitative.POSITIVE,
    "RR": Qualitative.POSITIVE,
    "NEG": Qualitative.NEGATIVE,
    "ND": Qualitative.NEGATIVE,
    "NR": Qualitative.NEGATIVE,
    "IND": Qualitative.EQUIVOCAL,
    "E": Qualitative.EQUIVOCAL,
    "WR": Qualitative.EQUIVOCAL,
}
"""Flags that state the answer, whatever the value type."""
WEAK_FLAGS = {"A": Qualitative.POSITIVE, "AA": Qualitative.POSITIVE, "N": Qualitative.NEGATIVE}
"""Abnormal / normal: read as positive / negative only for a result without a number."""


def answer_of(code: Code) -> Qualitative | None:
    """The qualitative meaning of a coded answer (SNOMED qualifier value or LOINC answer)."""
    return ANSWERS.get(code.system, {}).get(code.code.strip())


def answer_in_words(text: str | None) -> Qualitative | None:
    """The qualitative meaning of a free-text answer, matched as a whole word list ("Not detected")."""
    if not text:
        return None
    return _BY_WORD.get(" ".join(text.strip().lower().rstrip(".").split()))


def flag_answer(flags: list[str], *, numeric: bool) -> Qualitative | None:
    """The answer abnormal flags / interpretations give, strong flags first."""
    upper = [f.strip().upper() for f in flags if f and f.strip()]
    for flag in upper:
        if flag in STRONG_FLAGS:
            return STRONG_FLAGS[flag]
    if not numeric:
        for flag in upper:
            if flag in WEAK_FLAGS:
                return WEAK_FLAGS[flag]
    return None
