"""Why a use case could not be done, for adapters to answer in their own terms (HTTP status, page,
HL7 ACK). Refusals of contract §13 are ``domain.identity.Refused``."""

from __future__ import annotations


class NotFound(LookupError):
    """No such record for this caller (it may exist at another site: the answer is the same)."""


class Invalid(ValueError):
    """The request cannot be read; the message says what to change and never echoes a value."""


class Conflict(ValueError):
    """The request is valid but the record's state does not allow it."""


class NotAuthenticated(PermissionError):
    """The caller failed to prove again who they are (a signature's re-entered token)."""


class Forbidden(PermissionError):
    """The caller may not do this (a subscription beyond its sites): answered 403."""
