"""Each HTTP request's id (contract §12): taken from ``X-Request-ID`` when the caller sends a short
token, else made here; set for the logs of this request and carried by the tasks it sends; answered
back in ``X-Request-ID``. A plain ASGI middleware, so it costs nothing per request beyond a header."""

from __future__ import annotations

from config.logs import clean_request_id, new_request_id, request_id


class RequestIds:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        rid = clean_request_id(sent) or new_request_id()
        token = request_id.set(rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
