"""Why an input was refused: one line naming what is wrong and where, never the patient's data."""

from __future__ import annotations

ISSUE_CODES = frozenset({"structure", "required", "value", "invalid", "not-supported", "code-invalid",
                         "not-found"})
ACK_CODES = frozenset({"AE", "AR"})

_MAX = 240


def one_line(text: str) -> str:
    """``text`` on one line, shortened: error messages go into logs, ACKs and OperationOutcomes."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX else flat[: _MAX - 3] + "..."


class InvalidInput(ValueError):
    """A FHIR submission that cannot be read.

    ``code`` is a FHIR issue type (``structure``, ``required``, ``value``, ``invalid``,
    ``not-supported``, ``code-invalid``, ``not-found``: a reference naming nothing); ``location`` is
    FHIRPath-like (``Bundle.entry[3].resource``).
    """

    def __init__(self, message: str, *, code: str = "invalid", location: str | None = None) -> None:
        if code not in ISSUE_CODES:
            raise ValueError(f"unknown issue code {code!r}")
        super().__init__(one_line(message))
        self.code = code
        self.location = location

    @property
    def message(self) -> str:
        return str(self)


class InvalidHl7(ValueError):
    """An HL7 v2 message refused with an ACK: ``ack_code`` AE or AR, ``error_code`` from HL7 table 0357
    (100 segment sequence, 101 required field missing, 102 data type error, 103 table value not found,
    200 unsupported message type, 207 application internal error) and ``location`` as an ERL
    (``PID^1^3``: segment, its sequence in the message, field)."""

    def __init__(self, message: str, *, ack_code: str = "AE", error_code: int = 207,
                 location: str | None = None) -> None:
        if ack_code not in ACK_CODES:
            raise ValueError(f"unknown ack code {ack_code!r}")
        super().__init__(one_line(message))
        self.ack_code = ack_code
        self.error_code = error_code
        self.location = location

    @property
    def message(self) -> str:
        return str(self)
