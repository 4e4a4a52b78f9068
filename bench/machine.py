"""What machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
import sys


def describe() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]} ({platform.python_implementation()})")


# By command line. uvicorn starts its worker processes with multiprocessing's spawn; the Celery pool
# forks, so its children keep the worker's command line.
_GROUPS = (
    ("postgres", "postgres"),
    ("redis-server", "redis"),
    (" api", "api"),
    ("multiprocessing.spawn", "api"),
    (" worker", "worker"),
    ("celery", "worker"),
)


def cpu_by_process() -> dict[str, float]:
    """CPU seconds used so far by every process of the machine, grouped (postgres, redis, api, worker,
    this benchmark): the difference of two readings shows where a run spent the machine's cores."""
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    totals: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                cmdline = cmd.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        group = "bench client" if int(entry) == me else "other"
        for needle, name in _GROUPS:
            if group == "other" and needle in cmdline:
                group = name
        totals[group] = totals.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> str:
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return ", ".join(f"{k} {v:.1f}s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.05)
