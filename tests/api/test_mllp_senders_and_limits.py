"""Contract §6 over the real MLLP listener: senders bound to addresses (``--from``) and TLS client
certificates (``--certificate``), and the limits that keep one peer from exhausting the listener (a
connection cap, a frame that must complete however its bytes trickle in, a cap on segments)."""

from __future__ import annotations

import hashlib
import ssl
import time

import pytest

from config.settings import Settings
from mllp.server import tls_context
from service.commands import ReceiveHl7, RegisterSender
from service.hl7 import receive_hl7
from service.senders import register_sender
from tests.api.test_mllp import counts, listen, loop, rt, world  # noqa: F401 - the same fixtures
from tests.api.test_mllp_tls import _client, _Settings, pki  # noqa: F401 - the same certificates
from tests.mllp_client import connect, msa, oru, send


def _bound_sender(rt, application: str, *, addresses=(), certificates=()) -> None:
    register_sender(RegisterSender(application, "LAB", ("site-a",), "test", tuple(addresses), tuple(certificates)),
                    rt.uow(), clock=rt.clock)


def wait_until(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _fingerprint(pem_path) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem_path.read_text())).hexdigest()


def test_a_sender_bound_to_other_addresses_gets_ar_and_nothing_is_stored(world, listen):
    _bound_sender(world, "FAR", addresses=["10.0.0.0/8"])
    _bound_sender(world, "NEAR", addresses=["10.0.0.0/8", "127.0.0.1"])
    listener = listen()
    before = counts(world)
    with connect(listener.port) as sock:
        far, near = send(sock, oru("A-222^^^NECKER^MR", control="F-1", application="FAR"),
                         oru("A-222^^^NECKER^MR", control="N-1", application="NEAR"))
    assert msa(far) == ("AR", "F-1") and b"not bound to this address" in far
    assert msa(near) == ("AA", "N-1")
    assert counts(world)[0] == before[0] + 1


def test_a_sender_bound_to_a_certificate_speaks_only_with_it(world, listen, pki):
    _bound_sender(world, "CERT", certificates=[_fingerprint(pki / "client.pem").upper()])
    _bound_sender(world, "OTHER", certificates=["ab" * 32])
    listener = listen(tls=tls_context(_Settings(pki, client_ca=True)))
    before = counts(world)
    with _client(pki, "client")(listener.port) as sock:
        ours, other = send(sock, oru("A-222^^^NECKER^MR", control="C-1", application="CERT"),
                           oru("A-222^^^NECKER^MR", control="C-2", application="OTHER"))
    assert msa(ours) == ("AA", "C-1")
    assert msa(other) == ("AR", "C-2")
    assert counts(world)[0] == before[0] + 1


def test_a_certificate_bound_sender_over_plain_tcp_gets_ar(world, listen):
    _bound_sender(world, "CERT", certificates=["ab" * 32])
    listener = listen()
    with connect(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR", control="P-1", application="CERT"))
    assert msa(ack) == ("AR", "P-1")


def test_connections_beyond_the_cap_are_closed_at_once(world, listen):
    listener = listen(max_connections=2)
    held = [connect(listener.port), connect(listener.port)]
    try:
        (ack,) = send(held[0], oru("A-222^^^NECKER^MR", control="K-1"))  # both are being served
        assert msa(ack) == ("AA", "K-1")
        with connect(listener.port) as third:
            try:
                assert third.recv(65536) == b""
            except ConnectionError:
                pass
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: listener.connections == 0, what="the listener to see both connections closed")
    with connect(listener.port) as again:  # a closed connection frees its place
        (ack,) = send(again, oru("A-222^^^NECKER^MR", control="K-2"))
    assert msa(ack) == ("AA", "K-2")


def test_a_frame_trickling_in_does_not_keep_its_connection_open(world, listen):
    listener = listen(idle_seconds=0.5)
    message = b"\x0b" + oru("A-222^^^NECKER^MR", control="S-1").encode()
    closed = False
    with connect(listener.port) as sock:
        sock.settimeout(0.05)
        for byte in message * 10:  # far longer than the idle window, a byte at a time
            try:
                sock.send(bytes([byte]))
                if sock.recv(65536) == b"":
                    closed = True
                    break
            except (TimeoutError, BlockingIOError):
                continue
            except ConnectionError:
                closed = True
                break
            time.sleep(0.05)
    assert closed


@pytest.mark.parametrize("notes, code", [(6, "AA"), (7, "AR")])
def test_a_message_of_too_many_segments_gets_ar_before_it_is_parsed(world, notes, code):
    message = oru("A-222^^^NECKER^MR", control="G-1") + "NTE|1||x\r\n" * notes  # 4 segments, then the notes
    before = counts(world)
    answer = receive_hl7(ReceiveHl7(message.encode(), "mllp", None), world.uow(), clock=world.clock,
                         dispatch=world.dispatch, authorities={}, max_results=1000, max_segments=10)
    assert (answer.code, f"MSA|{code}|G-1" in answer.ack) == (code, True)
    assert counts(world)[0] == before[0] + (code == "AA")


def test_the_segment_cap_is_2000_by_default():
    assert Settings().max_segments_per_message == 2000
