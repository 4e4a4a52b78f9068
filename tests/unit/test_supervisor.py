"""``myocit run``: one run per home, and a worker that writes the log lines of contract §12."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from myocit import supervisor
from myocit.supervisor import home_lock

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_run_on_the_same_home_is_refused_and_leaves_the_first_ones_metrics(tmp_path):
    counted = tmp_path / "metrics" / "counter_1.db"
    counted.parent.mkdir()
    counted.write_bytes(b"counts of the running service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYOCIT_", "PROMETHEUS_"))}
    with home_lock(tmp_path):  # the first run
        second = subprocess.run([sys.executable, "-m", "myocit.cli", "run", "--port", "0", "--mllp-port", "0"],
                                capture_output=True, text=True, cwd=ROOT, env={**env, "MYOCIT_HOME": str(tmp_path)},
                                timeout=120)
    assert second.returncode == 2
    assert "another `myocit run` is already running on" in second.stderr
    assert "Traceback" not in second.stderr
    assert counted.read_bytes() == b"counts of the running service"


def test_the_lock_is_released_when_a_run_ends(tmp_path):
    with home_lock(tmp_path):
        pass
    with home_lock(tmp_path):
        assert (tmp_path / "run.lock").read_text().strip() == str(os.getpid())


class _Exited:
    """A child process that has already ended, so ``supervise`` stops at once."""

    returncode = 0

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0


def test_the_worker_of_a_run_logs_at_the_configured_level(tmp_path, monkeypatch):
    started: list[tuple[str, ...]] = []
    monkeypatch.setattr(supervisor, "_start", lambda *args, env: started.append(args) or _Exited())
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(supervisor.signal, "signal", lambda *_: None)
    supervisor.supervise(port=0, concurrency=1, home=tmp_path, log_level="INFO")
    worker = next(args for args in started if args[0] == "worker")
    assert "--loglevel=INFO" in worker
