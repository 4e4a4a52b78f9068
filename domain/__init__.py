"""The MYOCIT eligibility rules, pure.

Nothing here reads a clock, a file, a database or the network: every evaluation is a function of a
patient's facts, the protocol (as data) and an explicit ``as_of`` date.
"""

from domain.evaluation import evaluate
from domain.facts import (
    Assessment,
    Attestation,
    Code,
    ConsentRecord,
    CoverageRecord,
    Diagnosis,
    LabResult,
    MedicationExposure,
    PatientProfile,
    Quantity,
    Vaccination,
)
from domain.protocol import Protocol
from domain.record import PatientRecord
from domain.verdicts import CriterionResult, Evidence, Kind, Screening, Status, Verdict

__all__ = [
    "Assessment",
    "Attestation",
    "Code",
    "ConsentRecord",
    "CoverageRecord",
    "CriterionResult",
    "Diagnosis",
    "Evidence",
    "Kind",
    "LabResult",
    "MedicationExposure",
    "PatientProfile",
    "PatientRecord",
    "Protocol",
    "Quantity",
    "Screening",
    "Status",
    "Vaccination",
    "Verdict",
    "evaluate",
]
