"""Encryption in transit: behind HTTPS, browsers are told to use nothing else (HSTS).

Secure cookies follow the same setting (Settings.cookie_secure). A plain ASGI middleware, so
Gradio's streamed responses (SSE) pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks


def with_missing_headers(message: Message, extra: Iterable[tuple[bytes, bytes]]) -> Message:
    """A response's start `message` with each of `extra` that the response does not set itself."""
    headers = list(message.get("headers", []))
    names = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in extra if name not in names]
    return {**message, "headers": headers}


class TransportSecurity:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [(b"x-content-type-options", b"nosniff")]
        if https:
            self.headers.append((b"strict-transport-security", HSTS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_missing_headers(message, self.headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
