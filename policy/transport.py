"""Encryption in transit: behind HTTPS, browsers are told to use nothing else (HSTS).

Secure cookies follow the same setting (Settings.cookie_secure). A plain ASGI middleware, so
Gradio's streamed responses (SSE) pass through untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks


class TransportSecurity:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if self.https and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
