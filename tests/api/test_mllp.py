"""Contract §6 against the real MLLP listener over real sockets (in process, over the embedded SQLite
store; evaluations run as plain functions): framing, order, limits, senders, authority, characters."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading

import pytest
from sqlalchemy import func, select

from mllp.server import Listener
from service.commands import RegisterSender, RevokeSender
from service.senders import register_sender, revoke_sender
from store.models import Fact, Message, Patient
from tests.fhir_samples import patient
from tests.inprocess import run_pending
from tests.mllp_client import connect, msa, oru, read_acks, send

MRN_A = "urn:oid:1.2.250.1.71.4.2.7"
MRN_B = "urn:oid:1.2.250.1.71.4.2.8"
LOOPBACK = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]


@pytest.fixture()
def rt(tmp_path):
    from tests.inprocess import make_runtime

    runtime = make_runtime(tmp_path, hl7_authorities=f"NECKER={MRN_A},RDEBRE={MRN_B}", max_body_bytes=4000)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def loop():
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(30)
    running.close()


@pytest.fixture()
def listen(rt, loop):
    """Start a listener on a free port (``allow``, ``tls``, ``idle_seconds`` may be changed)."""
    started: list[Listener] = []

    def start(**options) -> Listener:
        settings = {"allow": LOOPBACK, "idle_seconds": 300.0, "tls": None, **options}
        listener = Listener(rt, host="127.0.0.1", port=0, **settings)
        asyncio.run_coroutine_threadsafe(listener.start(), loop).result(30)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        asyncio.run_coroutine_threadsafe(listener.close(), loop).result(30)


def _sender(rt, application: str, facility: str, *sites: str) -> int:
    return register_sender(RegisterSender(application, facility, sites, "test"), rt.uow(), clock=rt.clock).pk


@pytest.fixture()
def world(client, tokens, rt):
    """Site A's child kid-a (A-222 at NECKER), site B's kid-b (A-222 at RDEBRE); LIS@LAB sends for
    site A, BLIS@BLAB for site B."""
    for headers, resource in ((tokens["lab"], patient("kid-a", site="site-a")),
                              (tokens["lab-site-b"], patient("kid-b", site="site-b"))):
        resource["identifier"] = [{"system": MRN_A if resource["id"] == "kid-a" else MRN_B, "value": "A-222"}]
        assert client.post("/fhir/Patient", json=resource, headers=headers).status_code == 202
    run_pending(rt)
    _sender(rt, "LIS", "LAB", "site-a")
    _sender(rt, "BLIS", "BLAB", "site-b")
    return rt


def counts(rt) -> tuple[int, int]:
    with rt.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(Message)),
                uow.session.scalar(select(func.count()).select_from(Fact)))


def facts_of(rt, pid: str) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Fact).join(Patient, Patient.pk == Fact.patient_pk)
                                  .where(Patient.id == pid))


# --- framing -----------------------------------------------------------------------------------------


def test_a_message_split_into_one_byte_writes_is_answered(world, listen):
    listener = listen()
    message = b"\x0b" + oru("A-222^^^NECKER^MR").encode() + b"\x1c\x0d"
    with connect(listener.port) as sock:
        for byte in message:
            sock.sendall(bytes([byte]))
        (ack,) = read_acks(sock, 1)
    assert msa(ack) == ("AA", "MSG-1")
    assert facts_of(world, "kid-a") == 1


def test_three_messages_in_one_write_get_three_acks_in_order(world, listen):
    listener = listen()
    with connect(listener.port) as sock:
        acks = send(sock, *(oru("A-222^^^NECKER^MR", 0.1 * n, f"M{n}") for n in range(3)))
    assert [msa(a) for a in acks] == [("AA", "M0"), ("AA", "M1"), ("AA", "M2")]


def test_fifty_messages_on_one_connection_are_answered_in_order(world, listen):
    listener = listen()
    with connect(listener.port) as sock:
        answers = []
        for n in range(50):
            sock.sendall(b"\x0b" + oru("A-222^^^NECKER^MR", n / 10, f"C{n:02}").encode() + b"\x1c\x0d")
        answers = read_acks(sock, 50)
    assert [msa(a) for a in answers] == [("AA", f"C{n:02}") for n in range(50)]
    assert counts(world)[0] == 2 + 50


def test_bytes_between_frames_are_discarded(world, listen):
    listener = listen()
    first, second = oru("A-222^^^NECKER^MR", 1, "G1").encode(), oru("A-222^^^NECKER^MR", 2, "G2").encode()
    with connect(listener.port) as sock:
        sock.sendall(b"noise\r\n\x1c\x0d" + b"\x0b" + first + b"\x1c\x0d" + b"\x00\xffgarbage" + b"\x0b" + second
                     + b"\x1c\x0d" + b"trailing")
        acks = read_acks(sock, 2)
    assert [msa(a) for a in acks] == [("AA", "G1"), ("AA", "G2")]


def test_a_frame_over_the_limit_gets_ar_and_the_next_one_is_read(world, listen):
    listener = listen()
    big = oru("A-222^^^NECKER^MR", 1, "BIG", comment="x" * 5000)
    before = counts(world)
    with connect(listener.port) as sock:
        acks = send(sock, big, oru("A-222^^^NECKER^MR", 2, "AFTER"))
    assert msa(acks[0]) == ("AR", "BIG") and b"ERR|" in acks[0]
    assert msa(acks[1]) == ("AA", "AFTER")
    assert counts(world)[0] == before[0] + 1


# --- senders and authority (contract §6, §13) --------------------------------------------------------


def test_an_unknown_sender_gets_ar_and_nothing_is_stored(world, listen):
    listener = listen()
    before = counts(world)
    with connect(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR", application="OTHER", facility="LAB"))
    assert msa(ack)[0] == "AR" and b"unknown sender" in ack and b"ERR|" in ack
    assert counts(world) == before


def test_a_revoked_sender_is_unknown(world, listen):
    listener = listen()
    with world.uow() as uow:
        pk = next(s.pk for s in __import__("store.senders", fromlist=["senders"]).senders(uow.session)
                  if s.application == "LIS")
    revoke_sender(RevokeSender(pk, "test"), world.uow(), clock=world.clock)
    before = counts(world)
    with connect(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR"))
    assert msa(ack)[0] == "AR" and counts(world) == before


def test_a_sender_of_site_b_naming_site_a_child_gets_ae_and_nothing_is_stored(world, listen):
    listener = listen()
    before = counts(world)
    with connect(listener.port) as sock:
        refused, own = send(sock, oru("A-222^^^NECKER^MR", application="BLIS", facility="BLAB", control="X1"),
                            oru("A-222", application="BLIS", facility="BLAB", control="X2"))
    assert msa(refused) == ("AE", "X1") and b"ERR|" in refused
    # The same sender, naming A-222 without an authority, reaches its own child only.
    assert msa(own) == ("AA", "X2")
    assert facts_of(world, "kid-a") == 0 and facts_of(world, "kid-b") == 1
    assert counts(world)[0] == before[0] + 1


# --- duplicates and characters ----------------------------------------------------------------------


def test_a_repeat_of_msh10_gets_the_same_msa_and_is_stored_once(world, listen):
    listener = listen()
    before = counts(world)
    with connect(listener.port) as sock:
        first, = send(sock, oru("A-222^^^NECKER^MR", 0.3, "DUP-1"))
        # A resend rebuilt by the interface engine: another value, same MSH-10, same sender.
        again, = send(sock, oru("A-222^^^NECKER^MR", 0.4, "DUP-1"))
    assert msa(first) == msa(again) == ("AA", "DUP-1")
    assert counts(world) == (before[0] + 1, before[1] + 1)


def test_latin1_with_and_without_msh18_is_read_as_latin1(world, listen):
    listener = listen()
    declared = oru("A-222^^^NECKER^MR", 1, "L1", charset="8859/1", comment="prélèvement hémolysé").encode("latin-1")
    undeclared = oru("A-222^^^NECKER^MR", 2, "L2", comment="prélèvement hémolysé").encode("latin-1")
    with connect(listener.port) as sock:
        acks = send(sock, declared, undeclared)
    assert [msa(a, "latin-1") for a in acks] == [("AA", "L1"), ("AA", "L2")]
    with world.uow() as uow:
        bodies = [m.body for m in uow.session.scalars(select(Message).where(Message.channel == "mllp")
                                                      .order_by(Message.pk))]
    assert all("prélèvement hémolysé" in body for body in bodies)


def test_msh18_that_the_bytes_do_not_fit_gets_ar(world, listen):
    listener = listen()
    before = counts(world)
    with connect(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR", charset="UNICODE UTF-8", comment="hémolysé").encode("latin-1"))
    assert msa(ack)[0] == "AR" and b"MSH^1^18" in ack
    assert counts(world) == before


# --- connections --------------------------------------------------------------------------------------


def test_a_disallowed_address_is_closed_at_once_and_logged(world, listen, caplog):
    listener = listen(allow=[ipaddress.ip_network("10.0.0.0/8")])
    caplog.set_level(logging.WARNING, logger="myocit.mllp")
    with connect(listener.port) as sock:
        try:
            sock.sendall(b"\x0b" + oru("A-222^^^NECKER^MR").encode() + b"\x1c\x0d")
            data = sock.recv(65536)
        except ConnectionError:
            data = b""
    assert data == b""
    assert any("refused" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records)
    assert not any("A-222" in r.getMessage() for r in caplog.records)


def test_an_idle_connection_is_closed(world, listen):
    listener = listen(idle_seconds=0.2)
    with connect(listener.port) as sock:
        assert sock.recv(65536) == b""  # closed by the listener, without anything sent


def test_log_lines_carry_no_patient_data(world, listen, caplog):
    listener = listen()
    caplog.set_level(logging.INFO, logger="myocit.mllp")
    with connect(listener.port) as sock:
        send(sock, oru("A-222^^^NECKER^MR", control="LOG-1"), oru("A-222^^^NECKER^MR", application="NOPE"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "answered AA" in text and "answered AR" in text
    assert "A-222" not in text and "LOG-1" not in text and "kid-a" not in text
