"""The operations the studio offers, by id. Order here is the order in the UI."""

from __future__ import annotations

from kernel.errors import UserError
from pipelines.base import Operation
from pipelines.ops.inpaint import Inpaint
from pipelines.ops.instruct_edit import InstructEdit
from pipelines.ops.outpaint import Outpaint
from pipelines.ops.remove_background import RemoveBackground
from pipelines.ops.restyle import Restyle
from pipelines.ops.upscale import Upscale

OPERATIONS: dict[str, Operation] = {
    op.id: op for op in (InstructEdit(), Inpaint(), Outpaint(), Restyle(), RemoveBackground(), Upscale())
}


def get_operation(operation_id: str) -> Operation:
    try:
        return OPERATIONS[operation_id]
    except KeyError:
        known = ", ".join(OPERATIONS)
        raise UserError(f"Unknown operation {operation_id!r}. Choose one of: {known}.") from None
