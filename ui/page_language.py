"""Gradio's page starts in the visitor's language: the server decides it and writes it into the page.

Gradio 6.31 picks its locale once, from navigator.language, as its first script boots. The `head=`
of mount_gradio_app is added to the page later (Index.svelte sets up i18n, then mounts the head),
so a script there cannot steer that choice. PageLanguage therefore edits Gradio's HTML page on its
way out: <html lang> and, first thing in <head>, a one-line script that makes navigator.language
the language kernel/language.py decided (cookie, then Accept-Language, then English). The page,
its handlers and the server's own pages then agree by construction. Being the one place that
rewrites Gradio's page, it also gives the page's inline scripts this request's Content-Security-Policy
nonce (web/headers.py). Nothing here imports gradio.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.language import request_language
from web.headers import csp_nonce, with_nonce

GRADIO_PAGE = b"window.gradio_config"  # only Gradio's own page carries its config inline
_HTML_LANG = re.compile(rb'(<html\b[^>]*?\blang=)(["\'])[^"\']*\2', re.IGNORECASE)
_HEAD = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)


def boot_script(lang: str) -> str:
    """Runs before Gradio's scripts (they are modules, so they wait for the page to be parsed)."""
    value = json.dumps(lang)
    return (
        "<script>(() => { for (const [name, value] of [['language', " + value + "], ['languages', [" + value
        + "]]]) { try { Object.defineProperty(navigator, name, {get: () => value, configurable: true}); }"
        " catch (e) {} } })();</script>"
    )


def with_language(page: bytes, lang: str) -> bytes:
    """Gradio's page with <html lang> and the boot script; any other page as it was."""
    if GRADIO_PAGE not in page:
        return page
    page = _HTML_LANG.sub(lambda found: found.group(1) + f'"{lang}"'.encode(), page, count=1)
    return _HEAD.sub(lambda found: found.group(0) + boot_script(lang).encode(), page, count=1)


class PageLanguage:
    """ASGI middleware: HTML answers to GET pass through with_language; everything else streams untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        lang = request_language(HTTPConnection(scope))
        nonce = csp_nonce(scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                if headers.get("content-type", "").startswith("text/html") and "content-encoding" not in headers:
                    start = message  # hold it until the body is complete: its length may change
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                original = b"".join(chunks)
                body = with_language(original, lang)
                headers = MutableHeaders(raw=list(start["headers"]))
                if body is not original:  # Gradio's page
                    body = with_nonce(body, nonce) if nonce else body
                    headers["content-length"] = str(len(body))
                    headers.add_vary_header("Cookie")
                    headers.add_vary_header("Accept-Language")
                await send({**start, "headers": headers.raw})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, rewrite)
