"""The caller's address and scheme behind proxies: what our own proxies wrote, never what the client did.

Every proxy appends the address it got the request from to X-Forwarded-For, after whatever the
request already carried; a client can put anything in front. Behind N proxies of our own, the
caller is therefore the N-th entry from the right. (uvicorn with FORWARDED_ALLOW_IPS=* takes the
leftmost entry, which the client writes: anyone could pick an address and step around the
per-address limits.) X-Forwarded-Proto is read the same way. The headers are believed only from a
peer in TRUSTED_PROXIES, and only when TRUSTED_PROXY_HOPS is above 0.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = {"http": {"http": "http", "https": "https"}, "websocket": {"http": "ws", "https": "wss"}}


def parse_trusted(value: str) -> list[IPNetwork] | None:
    """TRUSTED_PROXIES: "*" (None: any peer) or comma-separated addresses and networks; a typo fails the start."""
    if value.strip() == "*":
        return None
    try:
        return [ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip()]
    except ValueError as exc:
        raise ValueError(f"TRUSTED_PROXIES must be '*' or addresses and networks like 10.0.0.0/8: {exc}") from None


def appended_by_proxies(values: list[str], hops: int) -> str | None:
    """The entry our `hops` proxies wrote: the hops-th from the right (the leftmost, when there are fewer)."""
    entries = [entry.strip() for value in values for entry in value.split(",") if entry.strip()]
    if not entries or hops < 1:
        return None
    return entries[-min(hops, len(entries))]


def address(entry: str) -> str | None:
    """The IP address in an X-Forwarded-For entry ("1.2.3.4", "1.2.3.4:5678", "[::1]:80", "::1"), else None."""
    host = entry
    if entry.startswith("["):
        host = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        host = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class ProxyHeaders:
    """ASGI middleware: set scope["client"] and scope["scheme"] from the trusted proxies' headers."""

    def __init__(self, app: ASGIApp, *, trusted: str, hops: int) -> None:
        self.app = app
        self.trusted = parse_trusted(trusted)
        self.hops = hops

    def _trusts(self, peer: str | None) -> bool:
        if self.hops < 1 or peer is None:
            return False
        if self.trusted is None:
            return True
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:  # a unix socket's peer, or nothing usable
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope["client"][0] if scope.get("client") else None
        if scope["type"] in SCHEMES and self._trusts(peer):
            forwarded_for, forwarded_proto = [], []
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded_for.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto":
                    forwarded_proto.append(value.decode("latin-1"))
            client = address(appended_by_proxies(forwarded_for, self.hops) or "")
            if client is not None:
                scope["client"] = (client, 0)
            proto = (appended_by_proxies(forwarded_proto, self.hops) or "").lower()
            if proto in SCHEMES[scope["type"]]:
                scope["scheme"] = SCHEMES[scope["type"]][proto]
        await self.app(scope, receive, send)
