"""MLLP framing: ``0x0B`` message ``0x1C 0x0D``, over a byte stream that splits and joins frames as it
pleases (contract §6).

A small framer of our own rather than python-hl7's ``hl7.mllp`` streams, because the latter do not fit
the contract: their reader decodes every block with one character set fixed for the connection
(ASCII by default) before MSH-18 can be read, so a Latin-1 message and a UTF-8 one cannot share a
connection; it raises on bytes outside a frame instead of discarding them; and over its buffer limit
it raises and clears its buffer, losing its place in the stream, so the oversized frame cannot be
answered AR and the frames after it are misread. This framer yields raw bytes (``service.hl7``
decodes them by MSH-18), discards what lies outside frames, and answers an oversized frame without
keeping more than the limit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"
HEAD_BYTES = 4096
"""What is kept of an oversized frame: enough for its MSH, so its AR names its MSH-10."""


@dataclass(frozen=True)
class Frame:
    body: bytes
    """The message's bytes, without the framing; empty for an oversized frame."""
    oversized: bool = False
    head: bytes = b""
    """An oversized frame's first bytes."""


class Framer:
    """Feed it the bytes of one connection as they come; it returns the frames they complete, in order.

    A start byte inside an unfinished frame starts the frame again (what came before never ended, so it
    is nobody's message); a frame of more than ``limit`` bytes is returned as ``oversized``.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._inside = False
        self._scanned = 0
        self._dropped = 0
        self._head = b""

    @property
    def inside(self) -> bool:
        """A frame has started and not ended yet."""
        return self._inside

    def _begin(self, after: int) -> None:
        del self._buffer[:after]
        self._inside, self._scanned, self._dropped, self._head = True, 0, 0, b""

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while True:
            if not self._inside:
                start = self._buffer.find(START)
                if start < 0:
                    self._buffer.clear()  # bytes outside a frame are discarded
                    return frames
                self._begin(start + 1)
                continue
            since = max(0, self._scanned - 1)  # the end may straddle two reads
            end = self._buffer.find(END, since)
            restart = self._buffer.find(START, since)
            if restart >= 0 and (end < 0 or restart < end):
                self._begin(restart + 1)
                continue
            if end >= 0:
                size = self._dropped + end
                if size > self.limit or self._head:
                    frames.append(Frame(b"", True, self._head or bytes(self._buffer[:min(end, HEAD_BYTES)])))
                else:
                    frames.append(Frame(bytes(self._buffer[:end])))
                del self._buffer[:end + len(END)]
                self._inside = False
                continue
            if self._dropped + len(self._buffer) > self.limit:
                # Over the limit: keep its head to answer it, and only the last byte (half an end?).
                if not self._head:
                    self._head = bytes(self._buffer[:HEAD_BYTES]) or b"-"
                self._dropped += len(self._buffer) - 1
                del self._buffer[:-1]
            self._scanned = len(self._buffer)
            return frames


def framed(payload: bytes) -> bytes:
    return START + payload + END
