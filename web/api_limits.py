"""Runs per API key: at most API_KEY_RUNS_PER_MINUTE events started with one key, counted in the database
(so every app process agrees), and a 429 with Retry-After and a sentence past it.

Only requests that carry `Authorization: Bearer <key>` and start an event (Gradio's queue/join, call
and run routes) count: the page's own events carry the session cookie instead and are not limited
here, and the key is counted by its hash, so no key is stored. A key that does not work is counted
too (its caller then reads why in the answer to the run).
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.rate_limit import RateLimiter
from auth.tokens import hash_token

RUN_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/")
WINDOW = timedelta(minutes=1)


class ApiKeyRunLimit:
    """ASGI middleware: 429 once a key has started `per_minute` runs within the last minute."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, per_minute: int) -> None:
        self.app, self.limiter, self.per_minute = app, limiter, per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is not None:
            bucket = f"api-key-runs:{hash_token(key)[:40]}"
            if not await run_in_threadpool(self.limiter.allow, bucket, self.per_minute, WINDOW):
                wait = await run_in_threadpool(self.limiter.retry_after_s, bucket, WINDOW)
                sentence = (f"This API key started {self.per_minute} runs in the last minute, the most allowed. "
                            f"Try again in {wait} s.")
                await JSONResponse({"error": sentence}, status_code=429,
                                   headers={"Retry-After": str(wait)})(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _key(self, scope: Scope) -> str | None:
        if self.per_minute <= 0 or scope["type"] != "http" or scope["method"] != "POST":
            return None
        if not scope["path"].startswith(RUN_PREFIXES):
            return None
        scheme, _, key = Headers(scope=scope).get("authorization", "").partition(" ")
        return key.strip() or None if scheme.lower() == "bearer" else None
