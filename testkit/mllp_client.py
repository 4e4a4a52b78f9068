"""An MLLP client over a plain socket, and HL7 v2 messages to send (after tests/api/test_identity.py)."""

from __future__ import annotations

import socket

from mllp.framing import Framer, framed


def oru(pid3: str, value: float = 0.3, control: str = "MSG-1", *, application: str = "LIS", facility: str = "LAB",
        charset: str = "", comment: str = "") -> str:
    msh = f"MSH|^~\\&|{application}|{facility}|MYOCIT|HOSP|20261201083000||ORU^R01|{control}|P|2.5.1"
    if charset:
        msh += f"||||||{charset}"
    lines = [msh, f"PID|||{pid3}", "OBR|1||ORD-1|||20261130080000",
             f"OBX|1|NM|26499-4^Neutrophils^LN||{value}|10*9/L|||||F|||20261130080000"]
    if comment:
        lines.append(f"NTE|1||{comment}")
    return "\r".join(lines) + "\r"


def listening(port: int) -> bool:
    """Whether a listener accepts connections on ``port`` (to wait for one to start)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def connect(port: int, *, wrap=None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    return wrap(sock) if wrap else sock


def read_acks(sock: socket.socket, count: int) -> list[bytes]:
    """``count`` ACKs as they come back (framed), in order."""
    framer, acks = Framer(10_000_000), []
    while len(acks) < count:
        data = sock.recv(65536)
        if not data:
            raise AssertionError(f"connection closed after {len(acks)} of {count} ACKs")
        acks.extend(frame.body for frame in framer.feed(data))
    return acks


def msa(ack: bytes, encoding: str = "utf-8") -> tuple[str, str]:
    line = next(line for line in ack.decode(encoding).split("\r") if line.startswith("MSA"))
    fields = line.split("|")
    return fields[1], fields[2]


def send(sock: socket.socket, *messages: str | bytes) -> list[bytes]:
    payload = b"".join(framed(m.encode() if isinstance(m, str) else m) for m in messages)
    sock.sendall(payload)
    return read_acks(sock, len(messages))
