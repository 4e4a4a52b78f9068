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
    ("raw_storage", "raw storage"),
    (" api", "api"),
    ("multiprocessing.spawn", "api"),
    (" worker", "worker"),
    ("celery", "worker"),
)


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process of the machine: its parent, command line and CPU seconds used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
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
        found[int(entry)] = (int(fields[1]), cmdline, (int(fields[11]) + int(fields[12])) / tick)
    return found


def _other(cmdline: str) -> str:
    """A process of none of the known kinds, by program: ``other: pytest``, ``other: kernel``..."""
    words = cmdline.split()
    if not words:
        return "other: kernel"
    program = os.path.basename(words[0])
    if program.startswith("python") and len(words) > 1:
        if words[1] == "-m" and len(words) > 2:
            program = words[2]
        elif words[1] in ("-", "-c"):
            program = f"python {words[1]}"
        else:
            program = os.path.basename(words[1])
    return f"other: {program}"


def cpu_by_process(roots: dict[int, str] | None = None, database: str | None = None) -> dict[str, float]:
    """CPU seconds used so far by every process of the machine, grouped (postgres, redis, api, worker,
    this benchmark, any other by its program): the difference of two readings shows where a run spent
    the machine's cores. A process that ends between two readings takes its CPU time with it.

    ``roots`` (pid -> name): the processes this benchmark started; each, with its descendants, is
    counted under its name. Then an api or worker that is none of them (another program's, on a shared
    machine) is counted apart, as "api (not ours)" or "worker (not ours)"; so is, given ``database``,
    a PostgreSQL backend serving another database ("postgres (not ours)")."""
    found = _processes()
    me = os.getpid()
    mine = {v for v in (roots or {}).values()}
    totals: dict[str, float] = {}
    for pid, (parent, cmdline, cpu) in found.items():
        group = "bench client" if pid == me else None
        ancestor, hops = pid, 0
        while group is None and roots and ancestor in found and hops < 64:
            group = roots.get(ancestor)
            ancestor, hops = found[ancestor][0], hops + 1
        if group is None:
            group = next((name for needle, name in _GROUPS if needle in cmdline), None) or _other(cmdline)
            elsewhere = group == "postgres" and database and _backend_elsewhere(cmdline, database)
            if (roots and group in mine) or elsewhere:
                group = f"{group} (not ours)"
        totals[group] = totals.get(group, 0.0) + cpu
    return totals


def _backend_elsewhere(cmdline: str, database: str) -> bool:
    """A backend's command line reads ``postgres: 15/main: USER DATABASE HOST(PORT) STATE``."""
    words = cmdline.split()
    serving = len(words) >= 5 and words[0] == "postgres:" and ("(" in words[4] or words[4] == "[local]")
    return serving and words[3] != database


def foreign_cpu(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU seconds that other programs (not the benchmark's processes, the databases or the kernel) took
    between two readings with ``roots``: on a shared machine, what a figure lost to them."""
    return sum(max(0.0, after[k] - before.get(k, 0.0)) for k in after
               if k.endswith("(not ours)") or (k.startswith("other:") and k != "other: kernel"))


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> str:
    """The CPU seconds of each group between two readings of ``cpu_by_process``, largest first."""
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return ", ".join(f"{k} {v:.1f}s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.05)
