"""The JSON bodies the policy's routes read (data rights, the cookie choice), read one way.

The edge (web/limits.py) has already bounded the body's size by the time a route reads it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

UNREADABLE: Any = object()  # what read_json gives for a body that is not JSON at all


async def read_json(request: Request) -> Any:
    """The parsed body; UNREADABLE for one that is not JSON, not UTF-8, or nested deeper than json recurses."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return UNREADABLE
