"""The tombstones of objected children, as intake sees them: which names of a message match one
(``domain.privacy``), so that ``domain.identity.judge`` drops those items (contract §17).

The keyring comes from the session (``session.info["keyring"]``, a callable the Runtime puts there):
it is resolved only once a tombstone exists, so a deployment that never records an objection needs no
key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.identity import Authority, Known
from domain.privacy import Keyring, claim_names
from store.models import ErasedChild, TombstoneKey

CHUNK = 1000


class KeyMissing(RuntimeError):
    """A tombstone needs a key that is not configured; the message names the setting."""


def keyring_of(session: Session) -> Keyring:
    source: Callable[[], Keyring] | None = session.info.get("keyring")
    if source is None:
        raise KeyMissing("MYOCIT_PSEUDONYM_KEY is required here, and this process has no pseudonym key")
    try:
        return source()
    except ValueError as exc:  # config.settings.SettingsError: the message names the setting
        raise KeyMissing(str(exc)) from None


CHAINS = select(TombstoneKey.chain).distinct()


def chains(session: Session) -> list[str]:
    return list(session.scalars(CHAINS))


def with_objected(session: Session, known: Known, items, authority: Authority,
                  written: list[str] | None = None) -> Known:
    """``known`` with the names of ``items`` that match a tombstone. ``written``: ``chains`` if the caller
    read them already (after the lookup's row locks, as this would)."""
    written = chains(session) if written is None else written
    if not written:
        return known
    keyring = keyring_of(session)
    if missing := keyring.missing(written):
        raise KeyMissing(f"tombstones were written under pseudonym keys not configured (fingerprints "
                         f"{', '.join(missing)}): set MYOCIT_PSEUDONYM_OLD_KEYS, or run myocit tombstones rekey")
    sites = frozenset(s for s in session.scalars(select(ErasedChild.site).distinct()) if s is not None)
    names = set()
    for item in items:
        names |= claim_names(item.subjects, item.registration, sites if authority.sites is None else authority.sites)
    by_digest = {keyring.digest(chain, name): name for chain in written for name in names}
    digests = sorted(d for d in by_digest if d is not None)
    found = set()
    for start in range(0, len(digests), CHUNK):
        found.update(session.scalars(select(TombstoneKey.digest).where(
            TombstoneKey.digest.in_(digests[start:start + CHUNK]))))
    return replace(known, objected=frozenset(by_digest[d] for d in found), tombstone_sites=sites)


def rekey(session: Session, keyring: Keyring) -> int:
    """Wrap every hash not yet under the current key (``myocit tombstones rekey``); how many."""
    if missing := keyring.missing(chains(session)):
        raise KeyMissing(f"tombstones need pseudonym keys not configured (fingerprints {', '.join(missing)}): "
                         "set MYOCIT_PSEUDONYM_OLD_KEYS to the earlier keys first")
    count = 0
    for pk, chain, digest in session.execute(select(TombstoneKey.pk, TombstoneKey.chain, TombstoneKey.digest)).all():
        new_chain, new_digest = keyring.rewrap(chain, digest)
        if new_chain != chain:
            session.execute(TombstoneKey.__table__.update().where(TombstoneKey.pk == pk)
                            .values(chain=new_chain, digest=new_digest))
            count += 1
    return count
