"""Contract §6: the ACK is sent only after the message is stored. The listener is killed while a
received message waits on the database: the sender gets no ACK, nothing is stored, and its resend to
the restarted listener is stored once."""

from __future__ import annotations

import signal
import socket

from sqlalchemy import create_engine, func, select, text

from service.commands import RegisterSender
from service.senders import register_sender
from store.models import Message
from tests.integration.conftest import wait_until
from tests.mllp_client import listening, msa, oru, read_acks
from tests.processes import free_port
from mllp.framing import framed


def _waiting_on_a_lock(engine) -> bool:
    # A connection of its own: pg_stat_activity is read once per transaction.
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar() > 0


def _stored(rt, control: str) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Message).where(Message.control_id == control))


def test_a_listener_killed_before_its_commit_acknowledges_nothing_and_the_resend_is_stored_once(
        rt, processes, tmp_path, clean_db):
    with rt.engine.begin() as conn:
        conn.execute(text("TRUNCATE hl7_senders RESTART IDENTITY"))
    register_sender(RegisterSender("LIS", "LAB", ("site-a",), "test"), rt.uow(), clock=rt.clock)
    port = free_port()
    listener = processes.start("mllp", f"--port={port}", log=tmp_path / "mllp-1.log")
    wait_until(lambda: listening(port), what="the MLLP listener")
    message = framed(oru("kid-crash", control="CRASH-1").encode())

    locker = create_engine(clean_db)
    holding = locker.connect()
    transaction = holding.begin()
    holding.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(message)
        # The listener has the message and waits on the database: received, not committed.
        wait_until(lambda: _waiting_on_a_lock(locker), what="the listener waiting on the lock")
        processes.kill(listener, signal.SIGKILL)
        sock.settimeout(10)
        try:
            answer = sock.recv(65536)
        except OSError:
            answer = b""
        assert answer == b""  # no ACK: the sender will resend
        sock.close()
    finally:
        transaction.rollback()
        holding.close()
        locker.dispose()
    assert _stored(rt, "CRASH-1") == 0

    processes.start("mllp", f"--port={port}", log=tmp_path / "mllp-2.log")
    wait_until(lambda: listening(port), what="the restarted listener")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(message + message)
        acks = read_acks(sock, 2)
    assert [msa(a) for a in acks] == [("AA", "CRASH-1"), ("AA", "CRASH-1")]
    assert _stored(rt, "CRASH-1") == 1
