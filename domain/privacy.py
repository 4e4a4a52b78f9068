"""Data protection's pure rules (contract §17): the keyed hashes that let myocit recognise an objected
child without keeping anything that identifies it, and the sponsor's pseudonyms.

- "the child's identifiable data is erased ..., leaving a tombstone: screening id, site, date, who
  recorded it, and keyed hashes (HMAC-SHA256 with MYOCIT_PSEUDONYM_KEY) of the child's identifiers.
  Later data for those identifiers is acknowledged (so senders do not resend) and never stored."
- "For a monitor, the log's patient column is a keyed pseudonym: the first 16 hex digits of
  HMAC-SHA256(MYOCIT_PSEUDONYM_KEY, site + ":" + screening id), stable across exports."

A child is known by *names*: its Patient id (``id:P``), each identifier with a system
(``ident:S|V``), and each identifier value or id as it may be named without a system within its site
(``site:SITE|V``). A tombstone keeps the keyed hash of each name; a message is matched on the names
its items use. Hashes are written under a *chain* of keys (their fingerprints, ``a>b``): a rotation
wraps each hash under the new key (HMAC of the old hash), so a leaked old key alone opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PSEUDONYM_HEX = 16


def fingerprint(key: str) -> str:
    """A short public name of a key (never the key): which key a hash was written under."""
    return hashlib.sha256(b"myocit-pseudonym-key:" + key.encode("utf-8")).hexdigest()[:12]


def _mac(key: str, text: str) -> str:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keyring:
    """The current pseudonym key and the earlier ones still needed to check older tombstones."""

    current: str
    earlier: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.current:
            raise ValueError("the pseudonym key is empty")

    @property
    def current_chain(self) -> str:
        return fingerprint(self.current)

    def _keys(self) -> dict[str, str]:
        keys = {fingerprint(k): k for k in self.earlier}
        keys[fingerprint(self.current)] = self.current
        return keys

    def pseudonym(self, site: str | None, screening_id: str) -> str:
        """The monitor's name for a child: stable while the key is, meaningless without it."""
        return _mac(self.current, f"{site or ''}:{screening_id}")[:PSEUDONYM_HEX]

    def seal(self, name: str) -> tuple[str, str]:
        """(chain, hash) of a name under the current key: what a tombstone keeps."""
        return self.current_chain, _mac(self.current, name)

    def digest(self, chain: str, name: str) -> str | None:
        """The hash ``name`` has under ``chain``; None when a key of the chain is not configured."""
        keys = self._keys()
        value = name
        for fp in chain.split(">"):
            if fp not in keys:
                return None
            value = _mac(keys[fp], value)
        return value

    def missing(self, chains: Iterable[str]) -> list[str]:
        """The fingerprints of keys some chain needs that are not configured."""
        keys = self._keys()
        return sorted({fp for chain in chains for fp in chain.split(">") if fp not in keys})

    def rewrap(self, chain: str, value: str) -> tuple[str, str]:
        """A hash written under an earlier key, wrapped under the current one (``myocit tombstones rekey``)."""
        if chain.split(">")[-1] == self.current_chain:
            return chain, value
        return f"{chain}>{self.current_chain}", _mac(self.current, value)


def child_names(patient_id: str, identifiers: Iterable[tuple[str | None, str]], site: str | None) -> set[str]:
    """Every name later data could use for this child (contract §13's matching, mirrored)."""
    names = {f"id:{patient_id}", f"site:{site or ''}|{patient_id}"}
    for system, value in identifiers:
        if system:
            names.add(f"ident:{system}|{value}")
        names.add(f"site:{site or ''}|{value}")
    return names


def claim_names(subjects: Sequence, registration, sites: Iterable[str]) -> set[str]:
    """The names an item uses for its child: its subjects and the Patient it registers; a value that may
    name a child within a site, at each of ``sites`` (the sender's, or every tombstone's for an admin).
    Objection errs on the side of the child: a value matching within the sender's sites is enough."""
    sites = sorted(set(sites))
    names: set[str] = set()

    def values(value: str) -> None:
        names.update(f"site:{site}|{value}" for site in sites)

    for subject in subjects:
        if subject.kind == "id":
            names.add(f"id:{subject.value}")
        elif subject.system:
            names.add(f"ident:{subject.system}|{subject.value}")
        values(subject.value)
    if registration is not None:
        names.add(f"id:{registration.id}")
        values(registration.id)
        for system, value in registration.identifiers:
            if system:
                names.add(f"ident:{system}|{value}")
            values(value)
    return names


def plain_values(names: Iterable[str]) -> set[str]:
    """The identifier values and ids inside names (what a message body shows of a child)."""
    found = set()
    for name in names:
        kind, _, rest = name.partition(":")
        found.add(rest.rpartition("|")[2] if kind in ("ident", "site") else rest)
    return {v for v in found if v}
