"""The API's HTTP connections: a request's headers must be complete in time, however slowly the bytes
come (a client trickling header bytes must not hold a connection for ever)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from tests.processes import free_port
from web.http_server import HeadersInTime


class QuickHeaders(HeadersInTime):
    header_seconds = 0.5


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture()
def server():
    port = free_port()
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, http=QuickHeaders, log_level="warning",
                            lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    assert running.started
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)  # a guard against hanging the suite, not a measure
    return sock


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_request_sent_whole_is_answered_and_the_connection_kept_for_the_next(server):
    with _connect(server) as sock:
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")


def test_headers_never_completed_close_the_connection(server):
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert _closed(sock)


def test_header_bytes_trickling_in_do_not_keep_the_connection_open(server):
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(0.1)
        for _ in range(300):
            try:
                sock.sendall(b"a")
                if sock.recv(1024) == b"":
                    return
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return
        pytest.fail("the connection stayed open while header bytes trickled in")


def test_after_an_answer_the_next_requests_headers_are_awaited_in_time_too(server):
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        assert _closed(sock)
