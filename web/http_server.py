"""The HTTP connections of the API: uvicorn's, with a deadline for a request's headers.

uvicorn bounds a kept-alive connection's silence, not how long a request's headers take: a client
sending one header byte at a time would hold a connection (and a file descriptor) for ever, and a few
hundred such clients would take the API off the air. Here a connection whose request line and headers
are not complete ``MYOCIT_HTTP_HEADER_SECONDS`` after it opens, or after its previous answer, is
closed.
"""

from __future__ import annotations

from asyncio import TimerHandle

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from config.settings import get_settings


class HeadersInTime(HttpToolsProtocol):
    header_seconds: float | None = None
    """None: ``MYOCIT_HTTP_HEADER_SECONDS``, read once per process."""

    _headers_due: TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()

    def on_headers_complete(self) -> None:
        self._headers_received()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Unless a pipelined request (its headers read) is being answered, the next one's are awaited.
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._expect_headers()

    def connection_lost(self, exc) -> None:
        self._headers_received()
        super().connection_lost(exc)

    def _expect_headers(self) -> None:
        self._headers_received()
        seconds = type(self).header_seconds
        if seconds is None:
            seconds = type(self).header_seconds = get_settings().http_header_seconds
        self._headers_due = self.loop.call_later(seconds, self._headers_late)

    def _headers_received(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if not self.transport.is_closing():
            self.transport.close()
