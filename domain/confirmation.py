"""The investigator's confirmation of eligibility (contract §9): what is signed, what it means, and
when a signature still stands. Pure: the service stores what this computes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date

SIGNED_KEYS = ("patient", "protocol", "protocol_version", "as_of", "status", "eligible_from", "next_review_at",
               "criteria")
"""Exactly the keys of a §3 screening result: none of the §5.1 fields (``screened_at``, ``pending``)."""


def signed_object(result: Mapping) -> dict:
    """The §3 object of a stored screening, the only part a signature covers."""
    return {key: result.get(key) for key in SIGNED_KEYS}


def canonical(result: Mapping) -> bytes:
    """Keys sorted, separators ``,`` and ``:`` with no spaces, non-ASCII kept as UTF-8."""
    return json.dumps(signed_object(result), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature_hash(result: Mapping) -> str:
    return hashlib.sha256(canonical(result)).hexdigest()


def default_meaning(protocol_version: str, as_of: date) -> str:
    return (f"I confirm that this child meets every eligibility criterion of the MYOCIT protocol "
            f"{protocol_version} as of {as_of.isoformat()}.")


def refusal(latest_status: str | None, latest_as_of: date | None, pending: bool, as_of: date) -> str | None:
    """Why eligibility cannot be signed for ``as_of`` now (None: it can). Only the latest stored
    screening is signed, for its own date, eligible, with nothing arrived since."""
    if latest_status is None:
        return "the child has no stored screening yet"
    if pending:
        return "data arrived after the latest stored screening and it is being re-screened; sign once it is stored"
    if latest_as_of != as_of:
        return f"the latest stored screening is as of {latest_as_of.isoformat() if latest_as_of else '?'}, not {as_of.isoformat()}"
    if latest_status != "eligible":
        return f"the latest stored screening is {latest_status}, not eligible"
    return None


def still_valid(statuses_since: Iterable[str]) -> bool:
    """A confirmation stands while every screening stored after the signed one stayed eligible."""
    return all(status == "eligible" for status in statuses_since)
