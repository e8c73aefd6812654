"""What browsers let the app's pages do: Content-Security-Policy, who may frame them, what referrers say.

The policy is made per request. Each request gets a fresh nonce (csp_nonce(scope)); Gradio's page
carries it on its own inline scripts (ui/page_language.py writes it in), and the app's few fixed
inline scripts (the analytics loader in the page's head, the payment page's balance watcher) are
allowed by their hashes. Scripts come from the app itself and nowhere else: Google's analytics
hosts are named only once the visitor has accepted analytics (policy/cookies.py says whether).
Framing: the app's own pages, ALLOWED_ORIGINS, and on Spaces Hugging Face's, which shows the app
in an iframe; elsewhere X-Frame-Options SAMEORIGIN too, for browsers without frame-ancestors.

What Gradio 6.31 needs beyond that, found by running its page in Chromium under this policy:
  - script-src 'unsafe-eval': Gradio compiles every `js=` event handler and gr.HTML's js_on_load
    and templates with the Function constructor (the sign-out, cookie choice, language switch,
    checkout and mask painter all run that way);
  - style-src 'unsafe-inline': Svelte writes style attributes, and Gradio adds <style> elements at
    run time (the theme, the app's css=, each gr.HTML's css_template, the head's banner styles);
  - img-src data:: Gradio's icons are SVG data: URLs, and so are the results the app shows.
Nothing else: fonts, media, workers and frames stay on 'self' (default-src), and the webcam, the
pasted photo, the mask painter and the download work so.
A plain ASGI middleware, so Gradio's streamed responses (SSE) pass through untouched.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from policy.transport import with_missing_headers

NONCE_KEY = "studio.csp_nonce"  # where in the ASGI scope this request's nonce is kept
HUGGING_FACE = ("https://huggingface.co", "https://*.hf.space")  # the Space page frames the app
GOOGLE_ANALYTICS = {  # what gtag.js loads and where it sends its beacons (Google's CSP guide for GA4)
    "script-src": ("https://www.googletagmanager.com",),
    "img-src": ("https://*.google-analytics.com", "https://*.googletagmanager.com"),
    "connect-src": ("https://*.google-analytics.com", "https://*.analytics.google.com",
                    "https://*.googletagmanager.com"),
}
REFERRER_POLICY = b"strict-origin-when-cross-origin"  # other sites learn the origin, never a path or a token
_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_SCRIPT_TAG = re.compile(rb"<script\b(?![^>]*\bnonce=)", re.IGNORECASE)

AnalyticsCheck = Callable[[HTTPConnection], bool]


def csp_nonce(scope: Scope) -> str | None:
    """This request's nonce, for whatever writes inline scripts into the page (PageSecurity sets it)."""
    return scope.get(NONCE_KEY)


def with_nonce(page: bytes, nonce: str) -> bytes:
    """Every <script> tag of a page the app itself wrote, with this request's nonce."""
    attribute = b' nonce="' + nonce.encode() + b'"'
    return _SCRIPT_TAG.sub(lambda tag: tag.group(0) + attribute, page)


def script_hashes(*html: str) -> tuple[str, ...]:
    """'sha256-…' sources for the inline scripts in fixed pieces of HTML the app serves."""
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(found.encode()).digest()).decode() + "'"
        for piece in html for found in _INLINE_SCRIPT.findall(piece) if found.strip()
    )


def frame_ancestors(settings: Settings) -> tuple[str, ...]:
    return ("'self'", *settings.allowed_origins, *(HUGGING_FACE if settings.space_id else ()))


def content_security_policy(nonce: str, *, hashes: tuple[str, ...], ancestors: tuple[str, ...],
                            analytics: bool) -> str:
    directives: dict[str, tuple[str, ...]] = {
        "default-src": ("'self'",),
        "script-src": ("'self'", f"'nonce-{nonce}'", *hashes, "'unsafe-eval'"),
        "style-src": ("'self'", "'unsafe-inline'"),
        "img-src": ("'self'", "data:"),
        "connect-src": ("'self'",),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ancestors,
    }
    if analytics:
        for name, hosts in GOOGLE_ANALYTICS.items():
            directives[name] += hosts
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class PageSecurity:
    """ASGI middleware: a per-request Content-Security-Policy on HTML, framing and referrer rules on everything."""

    def __init__(self, app: ASGIApp, *, settings: Settings, inline_scripts: tuple[str, ...] = (),
                 analytics_accepted: AnalyticsCheck | None = None) -> None:
        self.app = app
        self.hashes = script_hashes(*inline_scripts)
        self.ancestors = frame_ancestors(settings)
        self.analytics_accepted = analytics_accepted
        self.headers = [(b"referrer-policy", REFERRER_POLICY)]
        if self.ancestors == ("'self'",):  # framed by no one else: say so to browsers without frame-ancestors too
            self.headers.append((b"x-frame-options", b"SAMEORIGIN"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = scope[NONCE_KEY] = secrets.token_urlsafe(18)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(self.headers)
                if Headers(raw=message.get("headers", [])).get("content-type", "").startswith("text/html"):
                    analytics = await self._analytics(scope)
                    policy = content_security_policy(nonce, hashes=self.hashes, ancestors=self.ancestors,
                                                     analytics=analytics)
                    extra.append((b"content-security-policy", policy.encode()))
                message = with_missing_headers(message, extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _analytics(self, scope: Scope) -> bool:
        if self.analytics_accepted is None:
            return False
        return await run_in_threadpool(self.analytics_accepted, HTTPConnection(scope))
