"""`myocit site identifier-system add|list|remove` from the shell (contract §13)."""

from __future__ import annotations

from tests.unit.test_admin_commands import myocit


def test_an_identifier_system_is_bound_listed_and_removed(tmp_path):
    system = "urn:oid:1.2.250.1.71.4.2.7"
    added = myocit(tmp_path, "site", "identifier-system", "add", system, "--site", "necker")
    assert added.returncode == 0 and f"{system} belongs to necker" in added.stdout
    again = myocit(tmp_path, "site", "identifier-system", "add", system, "--site", "debre", "--site", "necker")
    assert "belongs to debre,necker" in again.stdout
    assert myocit(tmp_path, "site", "identifier-system", "add", system).returncode == 2  # --site is required
    assert myocit(tmp_path, "site", "identifier-system", "list").stdout == f"{system}\tdebre,necker\n"
    assert "1 binding(s) removed" in myocit(tmp_path, "site", "identifier-system", "remove", system, "--site",
                                            "debre").stdout
    assert "1 binding(s) removed" in myocit(tmp_path, "site", "identifier-system", "remove", system).stdout
    missing = myocit(tmp_path, "site", "identifier-system", "remove", system)
    assert missing.returncode == 2 and "not bound" in missing.stderr


def test_a_sender_is_bound_to_addresses_and_a_certificate(tmp_path):
    fingerprint = "AB:" * 31 + "AB"
    made = myocit(tmp_path, "sender", "create", "--application", "LIS", "--facility", "NECKER", "--site", "necker",
                  "--from", "10.1.2.3/24", "--from", "::1", "--certificate", fingerprint)
    assert made.returncode == 0, made.stderr
    assert "from 10.1.2.0/24,::1/128\tcertificate " + "ab" * 32 in made.stdout
    assert "from 10.1.2.0/24" in myocit(tmp_path, "sender", "list").stdout
    bad = myocit(tmp_path, "sender", "create", "--application", "X", "--facility", "Y", "--site", "s", "--from", "nowhere")
    assert bad.returncode == 2 and "--from" in bad.stderr
    bad = myocit(tmp_path, "sender", "create", "--application", "X", "--facility", "Y", "--site", "s",
                 "--certificate", "abc")
    assert bad.returncode == 2 and "--certificate" in bad.stderr
