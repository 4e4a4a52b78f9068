"""``myocit run``: API, worker, scheduler and MLLP listener as child processes, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "myocit.cli", *args], env=os.environ.copy())


def supervise(*, port: int, concurrency: int, mllp_port: int = 0) -> int:
    """``mllp_port`` 0: no MLLP listener."""
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
