"""Request bodies are counted as they arrive, against a limit per route, and refused the moment one passes it.

A route that reads its body (`await request.json()`, a Form parameter, Gradio's event models)
used to take all of it before any check: a body sent in chunks has no Content-Length to look at,
so 200 MB posted to /account/delete grew the process by 400-600 MB before the answer. BodyLimit
wraps `receive`: a declared length over the limit is refused before the app runs, and each chunk
is counted as the app asks for it, nothing buffered, so the app never holds more than the limit.
Past it the app's reading fails and the caller gets 413 with a JSON sentence instead of whatever
the app made of that. The limits are one table, derived from the settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing.webhooks import MAX_BODY_BYTES as WEBHOOK_BYTES
from config import Settings

KB, MB = 1000, 1000 * 1000  # decimal, as MAX_UPLOAD_MB is
DEFAULT_BYTES = 64 * KB  # any other route: Gradio's small JSON calls (cancel, component_server), GETs
MULTIPART_MARGIN = 1 * MB  # the form's boundaries and part headers around one file
INLINE_MARGIN = 8 * MB  # beside one picture inline: the painted mask (a PNG of mostly one colour) and the JSON
# Gradio's events take their inputs as JSON: API callers may send a picture inline as a base64 data: URL
# (4/3 of its bytes), and the page's mask painter sends its mask inline.
EVENT_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/",
                  "/gradio_api/stream/")


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes a request body may have, by path prefix (the longest prefix that matches wins)."""

    by_prefix: tuple[tuple[str, int], ...]
    default: int = DEFAULT_BYTES

    def for_path(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.default)


def body_limits(settings: Settings) -> BodyLimits:
    """Every route's limit in one table: fixed for the small JSON and form routes, from MAX_UPLOAD_MB for pictures."""
    picture = settings.max_upload_bytes
    table = {
        "/webhooks/creem": WEBHOOK_BYTES,  # Creem's events are a few kilobytes; billing/webhooks.py says how many
        "/account/": 64 * KB,  # {"confirm_email": ...}, {"version": ...}
        "/consent/": 1 * KB,  # {"analytics": true}
        "/auth/": 16 * KB,  # an address, a token, a path to come back to
        "/gradio_api/upload": picture + MULTIPART_MARGIN,
        **{prefix: math.ceil(picture * 4 / 3) + INLINE_MARGIN for prefix in EVENT_PREFIXES},
    }
    return BodyLimits(tuple(sorted(table.items(), key=lambda item: len(item[0]), reverse=True)))


def describe(size: int) -> str:
    """64 KB, 1 MB, 9.3 MB: the limit as the sentence says it."""
    return f"{round(size / MB, 1):g} MB" if size >= MB else f"{round(size / KB):g} KB"


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit: whatever the app was reading it for stops there."""


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's limit, declared or counted as it streams in."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        received, refused, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLarge(f"more than {limit} bytes")
            return message

        async def unless_refused(message: Message) -> None:
            nonlocal started
            if refused:  # the app's answer to a body it could not read: the 413 below says what happened
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:  # BodyTooLarge, or whatever the app turned it into
            if not refused:
                raise
        if refused and not started:
            await too_large(limit)(scope, receive, send)


def too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"The request is too large: at most {describe(limit)} may be sent here."},
                        status_code=413)
