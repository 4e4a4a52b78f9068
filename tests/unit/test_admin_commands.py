"""What an administrator does from the shell: list and revoke tokens, list and deactivate subscriptions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testkit import cli

ROOT = Path(__file__).resolve().parents[2]


def myocit(home: Path, *args: str) -> cli.Done:
    return cli.myocit(*args, env={"MYOCIT_HOME": str(home)})


def test_a_token_is_listed_without_its_secret_and_can_be_revoked(tmp_path):
    token = myocit(tmp_path, "token", "create", "--role", "lab", "--site", "site-a", "--name", "lab-system-A").stdout.strip()
    listed = myocit(tmp_path, "token", "list").stdout
    assert "lab-system-A" in listed and "active" in listed and token not in listed
    token_id = listed.split("\t", 1)[0]
    revoked = myocit(tmp_path, "token", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked 20" in myocit(tmp_path, "token", "list").stdout
    missing = myocit(tmp_path, "token", "revoke", "999")
    assert missing.returncode == 2 and "no token 999" in missing.stderr


def test_a_subscription_is_listed_without_its_secret_and_can_be_deactivated(tmp_path):
    created = myocit(tmp_path, "subscription", "create", "--site", "site-a", "--webhook", "https://ctms.example/in")
    secret = created.stdout.rsplit(" ", 1)[-1].strip()
    assert secret.startswith("whsec_")
    listed = myocit(tmp_path, "subscription", "list").stdout
    assert "site-a\twebhook\thttps://ctms.example/in\tactive" in listed and secret not in listed
    assert myocit(tmp_path, "subscription", "deactivate", listed.split("\t", 1)[0]).returncode == 0
    assert listed.replace("\tactive", "\tinactive") == myocit(tmp_path, "subscription", "list").stdout
    assert myocit(tmp_path, "subscription", "deactivate", "999").returncode == 2


def test_status_says_whether_work_is_flowing(tmp_path):
    shown = myocit(tmp_path, "status")
    assert shown.returncode == 0
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in shown.stdout.splitlines() if line.strip()}
    assert lines["pending"] == "0" and lines["deliveries failed"] == "0"
    assert lines["evaluations failed"] == "0" and lines["oldest pending seconds"] == "-"
    assert "no figures since start" in shown.stdout


def test_status_adds_up_what_every_process_of_a_run_counted(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    counting = ("from service import metrics\n"
                "metrics.MESSAGES.labels('fhir', 'stored').inc(3)\n"
                "metrics.EVALUATIONS.inc(2)\n"
                "metrics.EVALUATION_SECONDS.observe(0.02)\n"
                "metrics.EVALUATION_SECONDS.observe(0.04)\n"
                "metrics.STATUS_CHANGES.labels('incomplete', 'eligible').inc()\n")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for _ in range(2):  # two processes, as an API and a worker
        subprocess.run([sys.executable, "-c", counting], cwd=ROOT, env=env, check=True, timeout=60)
    shown = myocit(tmp_path, "status", "--metrics", str(folder))
    assert shown.returncode == 0, shown.stderr
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in shown.stdout.splitlines()
             if line.strip() and not line.endswith(":")}
    assert lines["messages fhir stored"] == "6"
    assert lines["evaluations"] == "4"
    assert lines["evaluation mean ms"] == "30.0" and lines["evaluation p95 ms at most"] == "50"
    assert lines["status changes incomplete to eligible"] == "2"


def test_status_shows_refused_and_stored_messages_side_by_side(tmp_path):
    """Label sets of one counter sort by their values (sorting the label dicts raised TypeError)."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    counting = ("from service import metrics\n"
                "metrics.MESSAGES.labels('fhir', 'refused').inc()\n"
                "metrics.MESSAGES.labels('fhir', 'stored').inc(2)\n"
                "metrics.MESSAGES.labels('hl7v2', 'stored').inc()\n"
                "metrics.DELIVERIES.labels('webhook', 'failed').inc()\n"
                "metrics.DELIVERIES.labels('email', 'sent').inc()\n")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run([sys.executable, "-c", counting], cwd=ROOT, env=env, check=True, timeout=60)
    shown = myocit(tmp_path, "status", "--metrics", str(folder))
    assert shown.returncode == 0, shown.stderr
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in shown.stdout.splitlines()
             if line.strip() and not line.endswith(":")}
    assert lines["messages fhir refused"] == "1" and lines["messages fhir stored"] == "2"
    assert lines["messages hl7v2 stored"] == "1"
    assert lines["deliveries webhook failed"] == "1" and lines["deliveries email sent"] == "1"
    order = [line.split()[1:3] for line in shown.stdout.splitlines() if line.startswith("messages ")]
    assert order == sorted(order)


def test_a_subscription_has_a_language_for_its_alerts(tmp_path):
    created = myocit(tmp_path, "subscription", "create", "--site", "site-a", "--email", "crc@hopital.example",
                     "--language", "fr")
    assert created.returncode == 0, created.stderr
    assert myocit(tmp_path, "subscription", "list").stdout.rstrip().endswith("\tactive\tfr")
    refused = myocit(tmp_path, "subscription", "create", "--site", "site-a", "--email", "x@y.example",
                     "--language", "de")
    assert refused.returncode == 2 and "fr or en" in refused.stderr
