"""Data protection from the shell (contract §17): a monitor's token, an objection, the purge and its
log, the audit export to a file, re-keying, and the embedded key generated once, owner-only."""

from __future__ import annotations

import json
import stat

from fastapi.testclient import TestClient

from testkit.fhir_samples import eligible_record
from tests.api.test_data_protection import DAY
from tests.inprocess import bearer, make_runtime, make_tokens, post_record
from tests.unit.test_admin_commands import myocit
from web.app import create_app


def test_objection_purge_audit_export_and_monitor_tokens_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    rt = make_runtime(home)
    with TestClient(create_app(rt)) as client:
        tokens = {k: bearer(v) for k, v in make_tokens(rt).items()}
        assert post_record(client, tokens, eligible_record("cli-kid-4", DAY)).status_code == 202
    rt.dispose()
    monitor = myocit(home, "token", "create", "--role", "monitor", "--site", "site-a", "--name", "sponsor")
    assert monitor.returncode == 0 and monitor.stdout.startswith("myo_")
    assert myocit(home, "token", "create", "--role", "monitor").returncode == 2
    objected = myocit(home, "patient", "object", "cli-kid-4", "--reason", "family objects")
    assert objected.returncode == 0 and "screening id s-" in objected.stdout, objected.stderr
    assert myocit(home, "patient", "object", "cli-kid-4").returncode == 2
    assert "0 children would be purged" in myocit(home, "purge", "--dry-run").stdout
    assert "purge 1: 0 children purged" in myocit(home, "purge").stdout
    assert "command line\tretention: 730 days" in myocit(home, "purge", "--log").stdout
    exported = tmp_path / "audit.json"
    assert myocit(home, "audit", "export", "--format", "json", "--output", str(exported)).returncode == 0
    rows = json.loads(exported.read_text())
    assert {"objection", "purge", "post"} <= {r["action"] for r in rows}
    assert "cli-kid-4" not in exported.read_text()
    csv_text = myocit(home, "audit", "export", "--actor", "command line").stdout
    assert csv_text.startswith("time,actor,role,action,screening_id,target,outcome")
    assert myocit(home, "audit", "export", "--from", "someday").returncode == 2
    assert "0 tombstone hashes" in myocit(home, "tombstones", "rekey").stdout
    assert stat.S_IMODE((home / "pseudonym-key").stat().st_mode) == 0o600
