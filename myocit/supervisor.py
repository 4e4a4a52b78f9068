"""``myocit run``: API, worker, scheduler and MLLP listener as child processes, stopped together."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK_FILE = "run.lock"


class AlreadyRunning(Exception):
    """Another ``myocit run`` holds this home."""

    def __init__(self, home: Path) -> None:
        super().__init__(f"another `myocit run` is already running on {home.resolve()}: stop it first, or give "
                         "this one its own MYOCIT_HOME")


@contextmanager
def home_lock(home: Path) -> Iterator[None]:
    """Hold the home for one ``myocit run``: a second would empty the first's metrics folder and start a
    second scheduler. The kernel releases the lock when the process ends, however it ends."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = open(home / LOCK_FILE, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(home) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def _start(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "myocit.cli", *args], env=env)


def metrics_folder(home: Path) -> Path:
    """Where every process of this run writes its Prometheus counts, emptied at each start (contract
    §12: ``GET /metrics`` adds up every process's figures)."""
    folder = home / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder


def supervise(*, port: int, concurrency: int, mllp_port: int = 0, home: Path = Path("var"),
              log_level: str = "INFO", mllp_processes: int = 1) -> int:
    """``mllp_port`` 0: no MLLP listener. The caller holds ``home_lock(home)``. The worker logs at
    ``log_level`` (contract §12: a line per screening stored and per delivery attempted); the scheduler
    at WARNING, as its own lines are one per tick."""
    env = os.environ.copy()
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_folder(home).resolve()))
    _spawn = functools.partial(_start, env=env)
    children = [
        _spawn("worker", f"--concurrency={concurrency}", f"--loglevel={log_level}"),
        _spawn("scheduler", "--loglevel=WARNING"),
        _spawn("api", f"--port={port}"),
    ]
    if mllp_port:
        children.append(_spawn("mllp", f"--port={mllp_port}", f"--processes={mllp_processes}"))
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
