"""The JSON bodies the policy's routes read (data rights, the cookie choice), read one way.

They take only `Content-Type: application/json`: a cross-site HTML form can post JSON as
text/plain (`<form enctype="text/plain">`) but cannot send this type, and a cross-site script
cannot without a CORS preflight, which web/origins.py refuses. The edge (web/limits.py) has
already bounded the body's size by the time a route reads it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

UNREADABLE: Any = object()  # what read_json gives for a body that is not JSON at all


def declared_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower() == "application/json"


async def read_json(request: Request) -> Any:
    """The parsed body; UNREADABLE for one that is not JSON, not UTF-8, or nested deeper than json recurses."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return UNREADABLE
