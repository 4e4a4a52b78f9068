"""Contract §17's pure rules: the keyed hashes of a tombstone and the names they cover, which items of a
message ``judge`` drops for an objected child (as a table), the monitor's pseudonyms, re-keying, and the
cutting of an objected child's part out of a stored message."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from domain.identity import Known, judge
from domain.privacy import Keyring, child_names, claim_names, fingerprint, plain_values
from ingest.redaction import PLACEHOLDER, redact
from tests.unit.test_identity_judgement import A, ADMIN, AB, B, MRN_A, by_id, ident, patient, result

KEY = "k" * 40
RING = Keyring(KEY)
GONE = child_names("gone", [(MRN_A, "G-9"), (None, "V-9")], "a")


def known_with_tombstone(items, authority) -> Known:
    """What ``store.tombstones.with_objected`` finds: the items' names that the tombstone holds."""
    sealed = {RING.seal(n)[1] for n in GONE}
    sites = frozenset({"a"}) if authority.sites is None else authority.sites
    names = set().union(*(claim_names(i.subjects, i.registration, sites) for i in items))
    return Known(objected=frozenset(n for n in names if RING.digest(RING.current_chain, n) in sealed),
                 tombstone_sites=frozenset({"a"}))


DROPS = {
    "by id": ([result(by_id("gone"))], A, {0}),
    "by id from another site's sender": ([result(by_id("gone"))], B, {0}),
    "by system and value": ([result(ident("G-9", MRN_A))], B, {0}),
    "by value alone, within the site": ([result(ident("G-9"))], A, {0}),
    "by value alone, from another site": ([result(ident("G-9"))], B, set()),
    "by a value without a system, within the site": ([result(ident("V-9"))], AB, {0}),
    "the Patient again": ([patient("gone", "a", (MRN_A, "G-9"))], A, {0}),
    "a new Patient id carrying its identifier": ([patient("new", "a", (MRN_A, "G-9"))], A, {0}),
    "an admin, by value": ([result(ident("V-9"))], ADMIN, {0}),
    "another child beside it is kept": ([result(by_id("gone")), result(by_id("other"))], A, {0}),
    "another child only": ([result(by_id("other")), patient("other", "a")], A, set()),
}


@pytest.mark.parametrize("items, authority, dropped", DROPS.values(), ids=DROPS.keys())
def test_judge_drops_the_items_naming_an_objected_child(items, authority, dropped):
    plan = judge(items, known_with_tombstone(items, authority), authority, "lab")
    assert set(plan.dropped) == dropped
    assert not (set(plan.patients) | set(plan.registrations) | set(plan.refused)) & dropped


def test_without_tombstones_nothing_is_dropped():
    assert judge([result(by_id("gone"))], Known(), A, "lab").dropped == frozenset()


def test_the_pseudonym_is_the_contracts_hmac():
    expected = hmac.new(KEY.encode(), b"necker:s-0123456789ab", hashlib.sha256).hexdigest()[:16]
    assert RING.pseudonym("necker", "s-0123456789ab") == expected
    assert Keyring("another key").pseudonym("necker", "s-0123456789ab") != expected


def test_a_rotation_wraps_old_hashes_which_are_checked_until_then_with_both_keys():
    chain, old = RING.seal("id:gone")
    rotated = Keyring("new" * 20, (KEY,))
    assert rotated.digest(chain, "id:gone") == old                     # checked under the old key
    new_chain, wrapped = rotated.rewrap(chain, old)
    assert new_chain == f"{fingerprint(KEY)}>{fingerprint('new' * 20)}"
    assert rotated.digest(new_chain, "id:gone") == wrapped
    assert rotated.rewrap(new_chain, wrapped) == (new_chain, wrapped)  # idempotent
    assert RING.digest(new_chain, "id:gone") is None                    # the old key alone opens nothing
    assert Keyring("new" * 20).missing([chain]) == [fingerprint(KEY)]


def test_plain_values_are_what_a_body_shows():
    assert plain_values(GONE) == {"gone", "G-9", "V-9"}


def _bundle(*pids):
    return json.dumps({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": {"resourceType": "Observation", "id": f"o-{p}", "subject": {"reference": f"Patient/{p}"}}}
        for p in pids]})


def test_a_bundle_keeps_the_other_childrens_entries():
    kept = json.loads(redact(_bundle("gone", "other"), {"gone"}))
    assert [e["resource"]["id"] for e in kept["entry"]] == ["o-other"]
    assert redact(_bundle("gone"), {"gone"}) is None
    assert redact(_bundle("other"), {"gone"}) == _bundle("other")


def test_an_hl7_message_keeps_the_other_patients_groups():
    body = "MSH|^~\\&|LIS|LAB\rPID|||G-9\rOBX|1|NM|x||1\rPID|||K-1\rOBX|1|NM|x||2\r"
    assert redact(body, {"G-9"}) == "MSH|^~\\&|LIS|LAB\rPID|||K-1\rOBX|1|NM|x||2\r"
    assert redact("MSH|^~\\&|LIS|LAB\rPID|||G-9\rOBX|1|NM|x||1\r", {"G-9"}) is None


def test_what_cannot_be_cut_apart_is_replaced_whole():
    assert redact("free text about G-9", {"G-9"}) is None
    entry = {"resource": {"resourceType": "Observation", "note": "G-9"}}
    weird = json.dumps({"resourceType": "Bundle", "entry": [entry, {"resource": {"id": "ok"}}], "x": "G-9"})
    assert redact(weird, {"G-9"}) == PLACEHOLDER


def test_the_key_is_generated_once_owner_only_on_the_embedded_default_and_required_elsewhere(tmp_path):
    import stat

    from config.settings import Settings, SettingsError

    first = Settings(home=tmp_path).resolved_pseudonym_key()
    assert Settings(home=tmp_path).resolved_pseudonym_key() == first and len(first) > 40
    assert stat.S_IMODE((tmp_path / "pseudonym-key").stat().st_mode) == 0o600
    configured = Settings(home=tmp_path / "other", database_url="postgresql+psycopg://db/myocit")
    with pytest.raises(SettingsError, match="MYOCIT_PSEUDONYM_KEY"):
        configured.resolved_pseudonym_key()
    assert not (tmp_path / "other").exists()
    chosen = Settings(home=tmp_path, database_url="postgresql+psycopg://db/myocit", pseudonym_key="chosen",
                      pseudonym_old_keys="old-1, old-2")
    assert chosen.resolved_pseudonym_key() == "chosen"
    assert chosen.resolved_old_pseudonym_keys() == ["old-1", "old-2"]


def test_every_table_referring_to_a_child_is_in_the_one_list_of_what_an_erasure_removes():
    """A table added later with a reference to a patient, its alerts, screenings or facts must get its
    line in ``store.erasure.ERASED_PER_CHILD`` (messages are cut apart on their own)."""
    from store.erasure import ERASED_PER_CHILD
    from store.models import Base

    child_tables = {"patients", "alerts", "screenings", "facts", "confirmations", "screening_outcomes"}
    covered = {model.__tablename__ for model, _ in ERASED_PER_CHILD} | {"patients", "messages"}
    referring = {table.name for table in Base.metadata.sorted_tables
                 for fk in table.foreign_keys if fk.column.table.name in child_tables}
    assert referring - covered == set()
