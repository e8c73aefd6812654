"""What a run costs: a price per operation (settings), optionally scaled by the result's megapixels.

The same function prices the Run button, the API and the charge, so they always agree.
"""

from __future__ import annotations

import math

from config import Settings
from kernel.errors import UserError
from pipelines.base import EditRequest
from pipelines.registry import OPERATIONS, get_operation


def base_price(settings: Settings, operation_id: str) -> int:
    return settings.price_table.get(operation_id, 1)


def price(settings: Settings, request: EditRequest) -> int:
    """Credits for this exact request."""
    op = get_operation(request.operation)
    credits = base_price(settings, op.id)
    if not settings.price_per_megapixel:
        return credits
    try:
        width, height = op.output_size(request)
    except UserError:
        return credits  # an invalid request is refused before it is priced or charged
    return max(credits, math.ceil(credits * width * height / 1_000_000))


def price_list(settings: Settings) -> list[tuple[str, int]]:
    """(operation id, credits) for the Credits tab, in the studio's order; the UI names them in each language."""
    return [(op.id, base_price(settings, op.id)) for op in OPERATIONS.values()]
