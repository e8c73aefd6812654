"""What a run costs: the operation's price (PRICES overrides it), optionally scaled by the result's megapixels.

The same function prices the Run button, the API and the charge, so they always agree.
"""

from __future__ import annotations

import math

from config import Settings
from kernel.errors import UserError
from pipelines.base import EditRequest, Operation
from pipelines.registry import OPERATIONS


def base_price(settings: Settings, op: Operation) -> int:
    return settings.price_table.get(op.id, op.price)


def price(settings: Settings, op: Operation, request: EditRequest) -> int:
    """Credits for this exact request."""
    credits = base_price(settings, op)
    if not settings.price_per_megapixel:
        return credits
    try:
        width, height = op.output_size(request)
    except UserError:
        return credits  # an invalid request is refused before it is priced or charged
    return max(credits, math.ceil(credits * width * height / 1_000_000))


def price_list(settings: Settings) -> list[tuple[str, int]]:
    """(operation id, credits) for the Credits tab, in the studio's order; the UI names them in each language."""
    return [(op.id, base_price(settings, op)) for op in OPERATIONS.values()]
