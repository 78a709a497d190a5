"""Refuse request bodies over a size limit before anything parses them.

A declared `Content-Length` over the limit is answered 413 without reading a byte; a body
without one (chunked) is read only up to the limit. The body is then handed on in one piece,
so the JSON parser never sees more than the limit and never sees a body cut short.
"""

from __future__ import annotations

import json

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodySizeLimit:
    """ASGI middleware answering 413 to bodies over `max_bytes` (400 to a bad Content-Length).

    Args:
        app: the ASGI app to protect.
        max_bytes: largest accepted body in bytes.

    Example:
        >>> app.add_middleware(BodySizeLimit, max_bytes=1_000_000)  # doctest: +SKIP
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            return await self.app(scope, receive, send)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _reply(send, 400, f"Content-Length must be a byte count, got {declared!r}.")
            if int(declared) > self.max_bytes:
                return await _reply(send, 413, f"Request body is {int(declared):,} bytes; "
                                               f"the limit is {self.max_bytes:,} bytes.")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await _reply(send, 413, f"Request body is over the limit of {self.max_bytes:,} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to disconnect

        return await self.app(scope, replay, send)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
