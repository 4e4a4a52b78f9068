"""``myocit run``: API, worker, scheduler and MLLP listener as child processes, stopped together."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def _start(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "myocit.cli", *args], env=env)


def metrics_folder(home: Path) -> Path:
    """Where every process of this run writes its Prometheus counts, emptied at each start (contract
    §12: ``GET /metrics`` adds up every process's figures)."""
    folder = home / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder


def supervise(*, port: int, concurrency: int, mllp_port: int = 0, home: Path = Path("var")) -> int:
    """``mllp_port`` 0: no MLLP listener."""
    env = os.environ.copy()
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_folder(home).resolve()))
    _spawn = functools.partial(_start, env=env)
    children = [
        _spawn("worker", f"--concurrency={concurrency}", "--loglevel=WARNING"),
        _spawn("scheduler", "--loglevel=WARNING"),
        _spawn("api", f"--port={port}"),
    ]
    if mllp_port:
        children.append(_spawn("mllp", f"--port={mllp_port}"))
    stopping = False

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"myocit: a service process exited with {child.returncode}; stopping", file=sys.stderr)
                    code = child.returncode or 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return code
