"""The MLLP listener (contract §6): asyncio streams, one task per connection, messages of a connection
answered one at a time and in order.

Each connection is checked against ``MYOCIT_MLLP_ALLOW`` before anything is read (and before any TLS
handshake): another address is closed at once and logged. Frames come from ``mllp.framing``; each one
is answered by ``service.hl7.receive_hl7`` (the same intake as ``POST /hl7v2``), run off the event loop
in a small thread pool because it does blocking database work; its ACK is written only once it has
returned, that is once the message is committed.

Limits (contract §6): a frame must complete within ``MYOCIT_MLLP_IDLE_SECONDS`` of its first byte
(bytes trickling in do not keep a connection open), and a connection with no frame begun is closed
after as long; connections beyond ``MYOCIT_MLLP_MAX_CONNECTIONS`` are closed at once, which with the
per-frame limit (``MYOCIT_MAX_BODY_BYTES``) bounds what unfinished frames hold in memory. The peer's
address and, under TLS, its certificate's SHA-256 go with each message, for senders bound to them.
Log lines carry the peer's address, the ACK code and sizes, never anything read from a message.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import signal
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import SQLAlchemyError

from bootstrap import Runtime
from ingest.errors import InvalidHl7
from ingest.hl7v2 import DEFAULT_CHARACTER_SET, ack_error
from config.logs import new_request_id, request_id
from mllp.framing import Frame, Framer, framed
from service.commands import ReceiveHl7
from service.hl7 import receive_hl7

log = logging.getLogger("myocit.mllp")
READ_BYTES = 65536
BALANCE_SECONDS = 0.005
"""How long a listener process waits, per connection it holds beyond the least busy process, before
it accepts a new connection (several processes on one port: ``mllp.processes``)."""
CHANNEL = "mllp"


def tls_context(settings) -> ssl.SSLContext | None:
    """A server context from ``MYOCIT_MLLP_TLS_CERT`` and ``_KEY``; with ``_CLIENT_CA``, clients must
    present a certificate that CA signed. None without a certificate (plain TCP)."""
    if settings.mllp_tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.mllp_tls_cert, settings.mllp_tls_key)
    if settings.mllp_tls_client_ca is not None:
        context.load_verify_locations(settings.mllp_tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _address(peer) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(peer[0])
    except (TypeError, ValueError, IndexError):
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _fingerprint(writer: asyncio.StreamWriter) -> str | None:
    """The SHA-256 (hex) of the TLS client certificate, None without one."""
    tls = writer.get_extra_info("ssl_object")
    certificate = tls.getpeercert(binary_form=True) if tls is not None else None
    return hashlib.sha256(certificate).hexdigest() if certificate else None


class Slots:
    """How many connections are open, against ``MYOCIT_MLLP_MAX_CONNECTIONS``: a plain count in one
    process, or a count in shared memory (``multiprocessing.Value``) that every listener process of one
    port takes from, so the limit is the port's, whatever the number of processes. With ``each`` (a
    shared ``multiprocessing.Array``, one count per process) and this process's ``index``, it also says
    how many more connections this process holds than the least busy one (``excess``)."""

    def __init__(self, shared=None, each=None, index: int = 0) -> None:
        self.shared = shared
        self.each, self.index = each, index
        self.local = 0

    def mine(self, index: int) -> "Slots":
        """The same counts, seen from the listener process ``index``."""
        return Slots(self.shared, self.each, index)

    def excess(self) -> int:
        if self.each is None:
            return 0
        counts = list(self.each)
        return counts[self.index] - min(counts)

    def own(self, step: int) -> None:
        """This process's count of accepted connections, up (1) or down (-1)."""
        if self.each is not None:
            with self.each.get_lock():
                self.each[self.index] += step

    @property
    def count(self) -> int:
        return self.shared.value if self.shared is not None else self.local

    def take(self, limit: int) -> bool:
        if self.shared is None:
            if self.local >= limit:
                return False
            self.local += 1
            return True
        with self.shared.get_lock():
            if self.shared.value >= limit:
                return False
            self.shared.value += 1
        return True

    def give_back(self) -> None:
        if self.shared is None:
            self.local -= 1
            return
        with self.shared.get_lock():
            self.shared.value -= 1


class Listener:
    def __init__(self, rt: Runtime, *, host: str, port: int, allow: list, idle_seconds: float,
                 tls: ssl.SSLContext | None = None, threads: int = 8, max_connections: int = 64,
                 sock: socket.socket | None = None, slots: Slots | None = None) -> None:
        self.rt = rt
        self.host, self.port = host, port
        self.allow = allow
        self.idle_seconds = idle_seconds
        self.max_connections = max_connections
        self.slots = slots or Slots()
        self.sock = sock
        self.tls = tls
        self.limit = rt.settings.max_body_bytes
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mllp")
        self.server: asyncio.Server | None = None
        self.acceptor: asyncio.Task | None = None
        self.tasks: set[asyncio.Task] = set()

    @classmethod
    def from_settings(cls, rt: Runtime, *, host: str | None = None, port: int | None = None,
                      sock: socket.socket | None = None, slots: Slots | None = None) -> "Listener":
        settings = rt.settings
        return cls(rt, host=host or settings.mllp_host, port=settings.mllp_port if port is None else port,
                   allow=settings.mllp_networks(), idle_seconds=settings.mllp_idle_seconds,
                   tls=tls_context(settings), max_connections=settings.mllp_max_connections, sock=sock,
                   slots=slots)

    @property
    def connections(self) -> int:
        return self.slots.count

    async def start(self) -> asyncio.Server | None:
        if self.sock is not None:  # a socket shared by several listener processes (``mllp.processes``)
            self.acceptor = asyncio.create_task(self._accept())
            self.port = self.sock.getsockname()[1]
        else:
            self.server = await asyncio.start_server(self._connection, self.host, self.port)
            self.port = self.server.sockets[0].getsockname()[1]
        log.info("mllp: listening on %s:%s%s", self.host, self.port, " (TLS)" if self.tls else "")
        return self.server

    async def _accept(self) -> None:
        """Accept on the shared socket, leaving a connection to a less busy process first: every
        process is woken by a new connection, and one holding more than the least busy waits a few
        milliseconds per connection in excess before it takes it (whichever process accepts, the
        connection is served, so a process that is stuck never holds others back for longer)."""
        loop = asyncio.get_running_loop()
        while True:
            excess = self.slots.excess()
            if excess > 0:
                await asyncio.sleep(min(0.05, BALANCE_SECONDS * excess))
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:
                log.warning("mllp: accept failed (%s)", type(exc).__name__)
                await asyncio.sleep(0.1)
                continue
            self.slots.own(1)  # counted at once: the next turn of this loop sees it
            task = asyncio.create_task(self._accepted(conn))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _accepted(self, conn: socket.socket) -> None:
        try:
            try:
                reader, writer = await asyncio.open_connection(sock=conn)
            except OSError:
                conn.close()
                return
            await self._connection(reader, writer)
        finally:
            self.slots.own(-1)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self.acceptor is not None:
            self.acceptor.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(self.acceptor, *self.tasks, return_exceptions=True)
        self.executor.shutdown(wait=True)

    def allowed(self, peer) -> bool:
        address = _address(peer)
        return address is not None and any(address in network for network in self.allow
                                           if network.version == address.version)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        shown = peer[0] if peer else "?"
        if not self.allowed(peer):
            log.warning("mllp: connection from %s refused: not in MYOCIT_MLLP_ALLOW", shown)
            writer.transport.abort()
            return
        if not self.slots.take(self.max_connections):
            log.warning("mllp: connection from %s refused: %s connections already open (MYOCIT_MLLP_MAX_CONNECTIONS)",
                        shown, self.connections)
            writer.transport.abort()
            return
        try:
            await self._serve(reader, writer, shown)
        finally:
            self.slots.give_back()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, shown: str) -> None:
        try:
            if self.tls is not None:
                await writer.start_tls(self.tls)
            log.info("mllp: connection from %s", shown)
            await self._converse(reader, writer)
        except TimeoutError:
            log.info("mllp: connection from %s closed: no complete message within %s s", shown, self.idle_seconds)
        except asyncio.CancelledError:
            # The listener is stopping: a message not answered yet was not committed either, and is
            # resent by the sender. Ending the connection's task here keeps shutdown quiet.
            log.info("mllp: connection from %s closed: the listener is stopping", shown)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.info("mllp: connection from %s ended (%s)", shown, type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one connection's failure never stops the listener
            # Only the kind: a message could quote patient data. No ACK: the sender sends it again.
            log.error("mllp: connection from %s closed on an error (%s)", shown, type(exc).__name__)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError, OSError):
                pass

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        framer = Framer(self.limit)
        origin = (_address(writer.get_extra_info("peername")), _fingerprint(writer))
        deadline = loop.time() + self.idle_seconds
        while True:
            # The deadline moves when a frame completes or begins, never for bytes alone.
            data = await asyncio.wait_for(reader.read(READ_BYTES), max(0.0, deadline - loop.time()))
            if not data:
                return
            was_inside = framer.inside
            frames = framer.feed(data)
            for frame in frames:
                # One at a time: the answers go back in the order the messages came.
                answer = await loop.run_in_executor(self.executor, self.answer, frame, origin)
                writer.write(framed(answer))
                await writer.drain()
            if frames or (framer.inside and not was_inside):
                deadline = loop.time() + self.idle_seconds

    def answer(self, frame: Frame, origin: tuple = (None, None)) -> bytes:
        """The ACK of one frame, once its message is stored (or refused), encoded as the message was."""
        rt = self.rt
        # Each message its own request id, carried into the evaluations and deliveries it causes.
        request_id.set(new_request_id())
        if frame.oversized:
            head = frame.head.decode("latin-1").replace("\n", "\r").split("\r", 1)[0]
            error = InvalidHl7(f"the message is larger than {self.limit} bytes", ack_code="AR", error_code=100,
                               location="MSH^1")
            log.info("mllp: message answered AR (larger than %s bytes)", self.limit)
            return ack_error(head, error, now=rt.clock.now()).encode(DEFAULT_CHARACTER_SET)
        try:
            address, certificate = origin
            answered = receive_hl7(ReceiveHl7(frame.body, CHANNEL, None, str(address) if address else None,
                                              certificate), rt.uow(), clock=rt.clock,
                                   dispatch=rt.dispatch, authorities=rt.settings.authority_systems(),
                                   max_results=rt.settings.max_results_per_message,
                                   max_segments=rt.settings.max_segments_per_message)
        except SQLAlchemyError as exc:
            # Nothing was committed: AE, and the sender sends it again.
            log.warning("mllp: message not stored (%s): answered AE", type(exc).__name__)
            error = InvalidHl7("the message could not be stored now; send it again", error_code=207,
                               location="MSH^1")
            return ack_error(frame.body.decode("latin-1"), error, now=rt.clock.now()).encode(DEFAULT_CHARACTER_SET)
        log.info("mllp: message of %s bytes answered %s%s%s", len(frame.body), answered.code,
                 f" (message {answered.message_pk})" if answered.message_pk else "",
                 " as a repeat" if answered.duplicate else "")
        return answered.ack.encode(answered.encoding, errors="replace")


async def serve(rt: Runtime, *, host: str | None = None, port: int | None = None,
                sock: socket.socket | None = None, slots: Slots | None = None) -> None:
    """Listen until SIGTERM or SIGINT (on ``sock`` when given: one of several listener processes)."""
    listener = Listener.from_settings(rt, host=host, port=port, sock=sock, slots=slots)
    await listener.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await listener.close()
