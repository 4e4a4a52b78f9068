"""Several MLLP listener processes on one port (contract §6): the parent binds and listens once, then
forks ``processes`` children that each accept on that same socket with their own event loop, thread
pool and database connections (``bootstrap.runtime`` is rebuilt after a fork). The kernel gives each
new connection to one child (a child holding more connections than the least busy one leaves it
to that one first: ``Listener._accept``), which keeps it to its end: the messages of a connection are answered by
one process, one at a time, in order, exactly as with one process.

Every child is ``mllp.server.Listener``: the same framing, allow-list, TLS and limits, and the ACK
written only once the message is committed. ``MYOCIT_MLLP_MAX_CONNECTIONS`` stays the port's limit: the
children take their connections from one count in shared memory. A message sent twice on two
connections at once (two children) is stored once: the message row's unique keys (body, and HL7 sender
with MSH-10) make the second claim a repeat, answered as the first was.

The parent only watches: SIGTERM or SIGINT stops every child (each finishes the message it is storing
and closes); a child that dies stops the others and the parent exits non-zero, so whoever runs it
(``myocit run``, systemd) sees it. Children are killed if the parent is killed (``PR_SET_PDEATHSIG``):
a message they had not committed is not acknowledged, and the sender sends it again.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import time

from mllp.server import Slots, serve

log = logging.getLogger("myocit.mllp")
PR_SET_PDEATHSIG = 1
BACKLOG = 512


def listening_socket(host: str, port: int) -> socket.socket:
    """The port's one listening socket, made before the children are forked (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=BACKLOG, reuse_port=False)
    sock.setblocking(False)
    return sock


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's SIGTERM still stops the children
        pass


def _child(sock: socket.socket, slots: Slots, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    from bootstrap import runtime

    code = 0
    try:
        asyncio.run(serve(runtime(), sock=sock, slots=slots))
    except Exception as exc:  # noqa: BLE001 - reported by its kind; the parent sees the exit code
        log.error("mllp: a listener process stopped on an error (%s)", type(exc).__name__)
        code = 1
    os._exit(code)


def serve_processes(processes: int, *, host: str, port: int) -> int:
    """Listen on ``host:port`` with ``processes`` processes until SIGTERM or SIGINT; the exit code."""
    sock = listening_socket(host, port)
    slots = Slots(multiprocessing.Value("i", 0), multiprocessing.Array("i", processes))
    parent = os.getpid()
    stopping = False

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    bound = sock.getsockname()[1]
    children = []
    for index in range(processes):
        pid = os.fork()
        if pid == 0:
            _child(sock, slots.mine(index), parent)
        children.append(pid)
    sock.close()
    log.info("mllp: %d listener processes on %s:%s", processes, host, bound)
    return _watch(children, lambda: stopping)


def _watch(children: list[int], stopping) -> int:
    code = 0
    alive = set(children)
    while alive and not stopping():
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            alive.discard(pid)
            log.error("mllp: a listener process exited (%s); stopping the others", status)
            code = 1
            break
        time.sleep(0.2)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while alive and time.monotonic() < deadline:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            alive.discard(pid)
        else:
            time.sleep(0.05)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return code
