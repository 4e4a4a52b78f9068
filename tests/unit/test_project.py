"""What a new user meets: the compose file, the README's services, the command's help."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_docker_compose_parses_and_runs_every_service_the_readme_names():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = set(compose["services"])
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`(postgres|redis|migrate|api|worker|scheduler)`", readme))
    assert named and named <= services
    assert {"postgres", "redis", "migrate", "api", "worker", "scheduler"} <= services


def test_the_command_explains_itself():
    out = subprocess.run([sys.executable, "-m", "myocit.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    for command in ("screen", "run", "api", "worker", "scheduler", "token", "migrate"):
        assert command in out.stdout
