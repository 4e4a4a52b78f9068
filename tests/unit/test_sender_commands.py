"""`myocit sender create|list|revoke` from the shell (contract §6), and `myocit mllp` refusing a bad
allow-list."""

from __future__ import annotations

from tests.unit.test_admin_commands import myocit


def test_a_sender_is_registered_listed_and_revoked(tmp_path):
    made = myocit(tmp_path, "sender", "create", "--application", "LIS", "--facility", "NECKER", "--site", "necker",
                  "--site", "debre")
    assert made.returncode == 0 and "LIS@NECKER sends for debre,necker" in made.stdout
    twice = myocit(tmp_path, "sender", "create", "--application", "LIS", "--facility", "NECKER", "--site", "x")
    assert twice.returncode == 2 and "already registered" in twice.stderr
    assert myocit(tmp_path, "sender", "create", "--application", "L|S", "--facility", "N", "--site", "x").returncode == 2
    listed = myocit(tmp_path, "sender", "list").stdout
    assert listed.startswith("1\tLIS\tNECKER\tdebre,necker\t") and "active" in listed
    assert "revoked" in myocit(tmp_path, "sender", "revoke", "1").stdout
    assert "\trevoked 20" in myocit(tmp_path, "sender", "list").stdout
    missing = myocit(tmp_path, "sender", "revoke", "999")
    assert missing.returncode == 2 and "no sender 999" in missing.stderr


def test_mllp_refuses_an_allow_list_that_does_not_read(tmp_path):
    import os
    import subprocess
    import sys

    from tests.unit.test_admin_commands import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")} | {
        "MYOCIT_HOME": str(tmp_path), "MYOCIT_MLLP_ALLOW": "127.0.0.1,not-an-address"}
    done = subprocess.run([sys.executable, "-m", "myocit.cli", "mllp", "--port", "0"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 2 and "MYOCIT_MLLP_ALLOW" in done.stderr
