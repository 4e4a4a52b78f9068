"""The investigator's confirmation of eligibility (contract §9): what is signed, what it means, and
when a signature still stands. Pure: the service stores what this computes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

SIGNED_KEYS = ("patient", "protocol", "protocol_version", "as_of", "status", "eligible_from", "eligible_until",
               "next_review_at", "criteria")
"""Exactly the keys of a §3 screening result: none of the §5.1 fields (``screened_at``, ``pending``)."""

KEYS_BEFORE_WINDOW = tuple(key for key in SIGNED_KEYS if key != "eligible_until")
"""The keys of §3 before the window of opportunity (§1.2): what confirmations signed then cover."""


def signed_object(result: Mapping, keys: Sequence[str] = SIGNED_KEYS) -> dict:
    """The §3 object of a stored screening, the only part a signature covers."""
    return {key: result.get(key) for key in keys}


def canonical(result: Mapping, keys: Sequence[str] = SIGNED_KEYS) -> bytes:
    """Keys sorted, separators ``,`` and ``:`` with no spaces, non-ASCII kept as UTF-8."""
    return json.dumps(signed_object(result, keys), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def signature_hash(result: Mapping, keys: Sequence[str] = SIGNED_KEYS) -> str:
    return hashlib.sha256(canonical(result, keys)).hexdigest()


def keys_recorded(keys: Sequence[str] = SIGNED_KEYS) -> str:
    """How a confirmation records the keys its hash covers."""
    return ",".join(keys)


def keys_covered(recorded: str | None) -> tuple[str, ...]:
    """The keys a confirmation's hash covers: as recorded, or those of §3 before §1.2 when it was
    signed before confirmations recorded them (§1.2: it "is checked against the keys it covered")."""
    return tuple(recorded.split(",")) if recorded else KEYS_BEFORE_WINDOW


def signature_matches(result: Mapping, sha256: str, recorded_keys: str | None) -> bool:
    """Whether the signed screening still hashes to what was signed, over the keys the signature covered."""
    return signature_hash(result, keys_covered(recorded_keys)) == sha256


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


def stands(signed_result: Mapping, sha256: str, recorded_keys: str | None,
           statuses_since: Iterable[str]) -> bool:
    """§9 ``valid``: the signed screening still hashes to what was signed, and every screening stored
    since stayed eligible."""
    return signature_matches(signed_result, sha256, recorded_keys) and still_valid(statuses_since)
