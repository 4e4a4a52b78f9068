"""The Docker image and compose file, checked without a Docker engine: a non-root user whose home is
a volume it owns, code it cannot write, nothing private copied in, and an MLLP listener published;
then the service run the way the image runs it (another user, a read-only code folder, a writable
home)."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> dict[str, list[str]]:
    """Each instruction's arguments, by instruction (continuation lines joined)."""
    found: dict[str, list[str]] = {}
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word.upper(), []).append(" ".join(rest.split()))
    return found


def home_of_image() -> str:
    env = " ".join(dockerfile()["ENV"])
    return next(part.split("=", 1)[1] for part in env.split() if part.startswith("MYOCIT_HOME="))


def test_the_image_runs_as_a_user_owning_a_home_volume_and_not_the_code():
    found = dockerfile()
    user = found["USER"][-1]
    assert user not in ("root", "0")
    home = home_of_image()
    assert not home.startswith(found["WORKDIR"][-1])  # the code folder stays root's
    assert home in " ".join(found["VOLUME"])
    assert f"chown {user}:{user} {home}" in " ".join(found["RUN"])
    assert {"8000", "2575"} <= set(" ".join(found["EXPOSE"]).split())


@pytest.mark.parametrize("path", [".venv/bin/python", "var/myocit.sqlite", "var/ui-secret", "var/metrics/counter.db",
                                  ".git/HEAD", "myocit/__pycache__/cli.cpython-311.pyc", ".pytest_cache/v/x"])
def test_nothing_private_or_local_goes_into_the_image(path):
    patterns = [line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    assert any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
               or fnmatch.fnmatch(parts[n - 1], pattern.removeprefix("**/"))
               for n, prefix in enumerate(prefixes, 1) for pattern in patterns), path


def test_compose_gives_every_process_the_home_volume_and_publishes_an_mllp_listener():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    home = home_of_image()
    ours = {name: s for name, s in compose["services"].items() if s.get("image", "").startswith("myocit")}
    assert {"migrate", "api", "worker", "scheduler", "mllp"} <= set(ours)
    for name, service in ours.items():
        assert service["environment"]["MYOCIT_HOME"] == home, name
        assert any(volume.split(":")[1] == home for volume in service["volumes"]), name
        assert service["volumes"][0].split(":")[0] in compose["volumes"], name
    mllp = ours["mllp"]
    assert mllp["command"][:2] == ["myocit", "mllp"] and "0.0.0.0" in mllp["command"]
    assert "2575:2575" in mllp["ports"]
    assert mllp["environment"]["MYOCIT_MLLP_ALLOW"]
    assert mllp["environment"]["MYOCIT_DATABASE_URL"] == ours["api"]["environment"]["MYOCIT_DATABASE_URL"]


def _runs_as_nobody() -> bool:
    """Whether another user may run this interpreter (not when it lives in root's private home)."""
    try:
        subprocess.run([sys.executable, "-c", "pass"], user=65534, group=65534, extra_groups=[], check=True,
                       cwd="/", timeout=60, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


@pytest.fixture()
def as_the_image():
    """A folder the service may not write (its working directory, as /app) and a home it owns; as
    another user than root when the tests run as root, as the image's user is."""
    base = Path(tempfile.mkdtemp(prefix="myocit-image-"))
    os.chmod(base, 0o755)
    code, home = base / "app", base / "home"
    code.mkdir()
    home.mkdir(mode=0o700)
    user = {}
    if os.geteuid() == 0 and _runs_as_nobody():
        os.chown(home, 65534, 65534)
        user = {"user": 65534, "group": 65534, "extra_groups": []}
    os.chmod(code, 0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYOCIT_", "PROMETHEUS_"))}
    env |= {"MYOCIT_HOME": str(home), "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        yield code, home, env, user
    finally:
        os.chmod(code, 0o755)
        shutil.rmtree(base, ignore_errors=True)


def _until(check, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"exited {process.poll()}:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def test_the_service_writes_only_its_home(as_the_image):
    code, home, env, user = as_the_image
    cli = [sys.executable, "-m", "myocit.cli"]
    env = env | {"PYTHONPATH": str(ROOT)}
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="myocit-image-logs-"))
    api_log, beat_log = logs / "api.log", logs / "scheduler.log"
    with open(api_log, "wb") as out:
        api = subprocess.Popen(cli + ["api", f"--port={port}"], cwd=code, env=env, start_new_session=True,
                               stdout=out, stderr=subprocess.STDOUT, **user)
    try:
        def login_page() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/ui/login", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _until(login_page, api, api_log)
        with open(beat_log, "wb") as out:
            scheduler = subprocess.Popen(cli + ["scheduler"], cwd=code, env=env, start_new_session=True,
                                         stdout=out, stderr=subprocess.STDOUT, **user)
        try:
            _until(lambda: any(p.name.startswith("beat-schedule") for p in home.iterdir()), scheduler, beat_log)
            assert scheduler.poll() is None, beat_log.read_text()[-3000:]
        finally:
            stop_group(scheduler)
    finally:
        stop_group(api)
    assert list(code.iterdir()) == []
    assert {"myocit.sqlite", "ui-secret"} <= {p.name for p in home.iterdir()}
    shutil.rmtree(logs, ignore_errors=True)
