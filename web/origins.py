"""Other sites can neither change anything here in a visitor's name nor read what the app answers them.

A browser attaches the visitor's cookies to requests other sites make: a hidden form that posts
`text/plain` to /account/delete, a script that joins Gradio's queue to create an API key. The
session cookie's SameSite=Lax keeps them off cross-site posts, but not off same-site ones (a sibling
subdomain, another port) and not at all with COOKIE_SAMESITE=none, as inside the Spaces iframe. So:

- A state-changing request (POST, PUT, PATCH, DELETE) must come from the app's own origin (PUBLIC_URL's,
  or the scheme and Host the request was addressed to) or one in ALLOWED_ORIGINS. The browser says
  where it comes from in `Origin`, which a page cannot forge; without it, `Sec-Fetch-Site` must say
  same-origin or none. A request with neither is not a browser's (gradio_client, curl) and passes:
  browsers send one of them on every cross-site post. 403 otherwise. Creem's signed server-to-server
  webhook is exempt.
- CORS: Gradio 6.31 answers any Origin with Access-Control-Allow-Origin and -Credentials when the
  host is not localhost, which lets any site read the answers the visitor's cookies earn. Here only
  ALLOWED_ORIGINS get those headers; everyone else's are removed, and their preflights refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = ("/webhooks/creem",)  # Creem calls from its servers, and signs what it sends
SAME_ORIGIN_FETCHES = {"same-origin", "none"}  # "none": the visitor typed it or used a bookmark
CORS_HEADERS = (b"access-control-allow-origin", b"access-control-allow-credentials",
                b"access-control-allow-methods", b"access-control-allow-headers",
                b"access-control-expose-headers", b"access-control-max-age")
FOREIGN = "This request came from another site; changes are accepted only from {brand}'s own pages."
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalized_origin(value: str) -> str | None:
    """scheme://host[:port], lower case, without the scheme's default port; None for anything else ("null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else "")


class CrossSiteGuard:
    """ASGI middleware: foreign writes and preflights are refused (403); CORS headers only for ALLOWED_ORIGINS."""

    def __init__(self, app: ASGIApp, *, public_url: str | None, allowed_origins: list[str], brand: str) -> None:
        self.app = app
        self.own = normalized_origin(public_url) if public_url else None
        self.embedders = {normalized_origin(origin) for origin in allowed_origins} - {None}  # checked by Settings
        self.refusal = FOREIGN.format(brand=brand)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" not in headers:  # not a cross-origin read; a write only with Sec-Fetch-Site's word
            if self.writes(scope) and not self.fetched_here(headers):
                await self.refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        origin = normalized_origin(headers["origin"])
        trusted = origin is not None and (origin in self.embedders or origin in (self.own, request_origin(scope)))
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            if not trusted:
                await self.refuse(scope, receive, send)
                return
            await preflight(origin, headers)(scope, receive, send)
            return
        if self.writes(scope) and not trusted:
            await self.refuse(scope, receive, send)
            return
        embedder = origin if origin in self.embedders else None

        async def only_for_embedders(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in CORS_HEADERS]
                message = {**message, "headers": kept}
                if embedder is not None:
                    allow(MutableHeaders(scope=message), embedder)
            await send(message)

        await self.app(scope, receive, only_for_embedders)

    @staticmethod
    def writes(scope: Scope) -> bool:
        return scope["method"] in STATE_CHANGING and not scope["path"].startswith(EXEMPT)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"error": self.refusal}, status_code=403)(scope, receive, send)

    @staticmethod
    def fetched_here(headers: Headers) -> bool:
        """Without Origin: Sec-Fetch-Site must say same-origin; a client that sends neither is not a browser."""
        site = headers.get("sec-fetch-site")
        return site is None or site.lower() in SAME_ORIGIN_FETCHES


def request_origin(scope: Scope) -> str | None:
    """The origin the request was addressed to: its scheme (web/proxies.py has set it) and Host."""
    return normalized_origin(f"{scope.get('scheme', 'http')}://{Headers(scope=scope).get('host', '')}")


def preflight(origin: str, headers: Headers) -> Response:
    """A page of `origin`, which this app names, may send the request it asks about."""
    response = Response(status_code=204)
    allow(response.headers, origin)
    response.headers["access-control-allow-methods"] = headers["access-control-request-method"]
    if "access-control-request-headers" in headers:
        response.headers["access-control-allow-headers"] = headers["access-control-request-headers"]
    response.headers["access-control-max-age"] = "600"
    return response


def allow(headers: MutableHeaders, origin: str) -> None:
    headers["access-control-allow-origin"] = origin
    headers["access-control-allow-credentials"] = "true"
    headers.add_vary_header("Origin")
