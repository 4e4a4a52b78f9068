"""Contract §6 with several listener processes on one port (``myocit mllp --processes 2``): every
connection's ACKs come back in the order its messages went; a message sent at once on several
connections (so, to both processes) is stored once and acknowledged AA on each; the port's connection
limit is shared; killing the listener (kill -9) takes its processes with it."""

from __future__ import annotations

import os
import signal
import socket
import threading

from sqlalchemy import func, select, text

from service.commands import RegisterSender
from service.senders import register_sender
from store.models import Message
from tests.integration.conftest import wait_until
from tests.mllp_client import connect, listening, msa, oru, read_acks, send
from tests.processes import free_port
from mllp.framing import framed


def _stored(rt, control: str | None = None) -> int:
    query = select(func.count()).select_from(Message)
    if control is not None:
        query = query.where(Message.control_id == control)
    with rt.uow() as uow:
        return uow.session.scalar(query)


def _listener(rt, processes, tmp_path, *extra: str, **env) -> tuple:
    with rt.engine.begin() as conn:
        conn.execute(text("TRUNCATE hl7_senders RESTART IDENTITY"))
    register_sender(RegisterSender("LIS", "LAB", ("site-a",), "test"), rt.uow(), clock=rt.clock)
    port = free_port()
    processes.env.update(env)
    child = processes.start("mllp", f"--port={port}", "--processes=2", *extra, log=tmp_path / "mllp.log")
    wait_until(lambda: listening(port), what="the MLLP listener processes")
    return child, port


def test_two_processes_keep_each_connections_order_and_store_a_duplicate_once(rt, processes, tmp_path):
    _, port = _listener(rt, processes, tmp_path)
    answers: dict[int, list] = {}

    def converse(n: int) -> None:
        with connect(port) as sock:
            messages = [oru(f"kid-{n}-{i}", control=f"C{n}-{i}") for i in range(6)]
            answers[n] = [msa(a) for a in send(sock, *messages)]

    child = processes.children[-1]
    held = [connect(port) for _ in range(8)]
    try:  # eight connections open at once are shared between the two processes, four each
        wait_until(lambda: sorted(_held(pid, port) for pid in _children(child.pid)) == [4, 4],
                   what="the connections shared evenly")
    finally:
        for sock in held:
            sock.close()
    threads = [threading.Thread(target=converse, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {n: a for n, a in answers.items()} == {n: [("AA", f"C{n}-{i}") for i in range(6)] for n in range(8)}
    assert _stored(rt) == 48

    # One message on eight connections at the same instant: both processes claim it; stored once.
    duplicate = framed(oru("kid-dup", control="DUP-1").encode())
    sockets = [connect(port) for _ in range(8)]
    try:
        start = threading.Barrier(len(sockets))
        acks: list = []

        def fire(sock: socket.socket) -> None:
            start.wait()
            sock.sendall(duplicate)
            acks.append(msa(read_acks(sock, 1)[0]))

        threads = [threading.Thread(target=fire, args=(s,)) for s in sockets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for sock in sockets:
            sock.close()
    assert acks == [("AA", "DUP-1")] * 8
    assert _stored(rt, "DUP-1") == 1


def test_the_connection_limit_is_the_ports_and_a_killed_listener_takes_its_processes(rt, processes, tmp_path):
    child, port = _listener(rt, processes, tmp_path, MYOCIT_MLLP_MAX_CONNECTIONS="3")
    kept: list[socket.socket] = []
    try:
        for n in range(3):  # each connection answered: all three are open, whichever process holds them
            # (the probe's connection gives its slot back as soon as its process sees it closed)
            kept.append(wait_until(lambda: _answered(port, f"L-{n}"), what="a connection within the limit"))
        with connect(port) as extra:  # the fourth is closed at once by whichever process accepts it
            extra.settimeout(30)
            assert extra.recv(100) == b""
    finally:
        for sock in kept:
            sock.close()
    pids = _children(child.pid)
    assert len(pids) == 2
    os.kill(child.pid, signal.SIGKILL)  # the parent alone: its processes die with it
    child.wait(timeout=30)
    wait_until(lambda: not any(_alive(pid) for pid in pids), what="the listener processes to die")
    # A killed process's leader is a zombie while its other threads still exit holding its files: the
    # port closes a moment after, once the last of them is gone.
    wait_until(lambda: not listening(port), what="the port to close")


def _answered(port: int, control: str) -> socket.socket | None:
    sock = connect(port)
    try:
        if msa(send(sock, oru("kid-limit", control=control))[0])[0] == "AA":
            return sock
    except (AssertionError, OSError):
        pass
    sock.close()
    return None


def _held(pid: int, port: int) -> int:
    """Established connections to ``port`` whose socket process ``pid`` holds (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        count += target.startswith("socket:[") and target[8:-1] in inodes
    return count


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
