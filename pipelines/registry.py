"""The operations the studio offers, by id. Order here is the order on the page.

Everything else reads this registry: the page and its texts, the API endpoints, the prices, the
model settings, /healthz, the metrics and the contract tests. A new operation is one file in
pipelines/ops/ plus its line below; an operation from elsewhere (a plugin, a test) joins with
`register(MyOperation())` before the app is built.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kernel.errors import UserError
from pipelines.acceleration import TECHNIQUES, unavailable
from pipelines.base import Operation
from pipelines.device import nvidia_driver_present, on_zero_gpu
from pipelines.inputs import Input, Texts, all_tables
from pipelines.loaders import LOADERS
from pipelines.ops.compose import Compose
from pipelines.ops.inpaint import Inpaint
from pipelines.ops.instruct_edit import InstructEdit
from pipelines.ops.outpaint import Outpaint
from pipelines.ops.remove_background import RemoveBackground
from pipelines.ops.restyle import Restyle
from pipelines.ops.select import Select
from pipelines.ops.upscale import Upscale

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger(__name__)

OPERATIONS: dict[str, Operation] = {}
DEFAULT = "default"  # PRELOAD_OPERATION's word for the page's first operation


def register(op: Operation) -> Operation:
    """Add an operation (at the end of the page's list), after checking it declares what the studio needs."""
    if op.id in OPERATIONS:
        raise ValueError(f"an operation {op.id!r} is registered already")
    missing = [name for name in ("label", "help") if f"op.{op.id}.{name}" not in op.tables().get("en", {})]
    if missing:
        raise ValueError(f"operation {op.id!r} has no English {', '.join(missing)} in its texts")
    if not op.inputs or not op.inputs[0].pictures:
        raise ValueError(f"operation {op.id!r}: the first input must be the picture (or the pictures)")
    if not op.models:
        raise ValueError(f"operation {op.id!r} declares no models")
    for kind in dict.fromkeys([op.model_kind, *(model.kind for model in op.models if model.kind)]):
        if kind not in LOADERS:
            raise ValueError(f"operation {op.id!r}: no loader for models of kind {kind!r}")
    for item in op.inputs:
        other = inputs().get(item.name)
        if other is not None and other is not item:
            raise ValueError(f"operation {op.id!r}: another input is already called {item.name!r}")
    OPERATIONS[op.id] = op
    return op


def unregister(operation_id: str) -> None:
    OPERATIONS.pop(operation_id, None)


def get_operation(operation_id: str) -> Operation:
    try:
        return OPERATIONS[operation_id]
    except KeyError:
        known = ", ".join(OPERATIONS)
        raise UserError(f"Unknown operation {operation_id!r}. Choose one of: {known}.") from None


def first() -> Operation:
    """The page's first operation: selected when the page opens."""
    return next(iter(OPERATIONS.values()))


def inputs() -> dict[str, Input]:
    """Every input the registered operations take, once each, in the order they first appear."""
    found: dict[str, Input] = {}
    for op in OPERATIONS.values():
        for item in op.inputs:
            found.setdefault(item.name, item)
    return found


def tables() -> Texts:
    """The operations' and their inputs' texts, as translation tables ("op.<id>.<key>", "input.<name>.<key>")."""
    merged = all_tables(list(inputs().values()))
    for op in OPERATIONS.values():
        for lang, texts in op.tables().items():
            merged.setdefault(lang, {}).update(texts)
    return merged


def preload_operation(settings: Settings) -> Operation | None:
    """The operation PRELOAD_OPERATION names ("default": the first), or None when it is empty."""
    name = settings.preload_operation.strip()
    if not name:
        return None
    return first() if name == DEFAULT else OPERATIONS[name]


def check_settings(settings: Settings) -> None:
    """Refuse settings that name operations or models that are not there; warn about unknown model settings.

    Called when the app starts, so a typo fails the start instead of the first run.
    """
    unknown_prices = sorted(set(settings.price_table) - set(OPERATIONS))
    if unknown_prices:
        raise ValueError(f"PRICES names {', '.join(unknown_prices)}, which is not an operation here "
                         f"(operations: {', '.join(OPERATIONS)})")
    name = settings.preload_operation.strip()
    if name and name != DEFAULT and name not in OPERATIONS:
        raise ValueError(f"PRELOAD_OPERATION={name} is not an operation (operations: {', '.join(OPERATIONS)})")
    read = {setting for op in OPERATIONS.values() for setting in op.model_settings()}
    for setting in sorted(set(settings.operation_models) - read):
        log.warning("%s is set but no operation reads it (model settings: %s)", setting.upper(),
                    ", ".join(sorted(s.upper() for s in read)))
    refuse_noncommercial(settings)
    for op in OPERATIONS.values():
        if not op.model_choices(settings):
            raise ValueError(f"{op.models_setting.upper()} offers no model for {op.id}")
    unknown = [name for name in settings.accelerations if name not in (*TECHNIQUES, "auto", "none")]
    if unknown:
        raise ValueError(f"ACCELERATIONS names {', '.join(unknown)}, which is no technique here "
                         f"(auto, none, or some of: {', '.join(TECHNIQUES)})")
    gpu_present = nvidia_driver_present() or on_zero_gpu()
    for name in settings.accelerations:
        reason = unavailable(name, settings.device, gpu_present)
        if reason:
            raise ValueError(reason)


def refuse_noncommercial(settings: Settings) -> None:
    """Refuse a model an operator named in <ID>_MODEL(S) whose licence forbids commercial use, when payments
    are configured and ALLOW_NONCOMMERCIAL_MODELS is off.

    The rule: a service that sells credits offers no non-commercial model unless the operator says it may.
    Built-in choices are quietly left out (Operation.built_in_choices): the operator did not ask for them,
    so their absence must not stop the start. A model the operator named explicitly is a decision, so it
    fails the start with a sentence saying which model, which setting and operation, and which licence.
    A model the studio does not know (not in any operation's `models`) has no known licence: it is
    offered, and its licence is the operator's to check.
    """
    if settings.noncommercial_models_allowed:
        return
    known = {model.id: model for op in OPERATIONS.values() for model in op.models}
    for op in OPERATIONS.values():
        for setting in op.model_settings():
            for model_id in _named(settings.operation_models.get(setting)):
                model = known.get(model_id)
                if model is not None and not model.commercial:
                    raise ValueError(
                        f"{setting.upper()} offers {model.name or model.id} ({model.id}) for {op.id}, but its "
                        f"licence ({model.licence or 'unknown'}) does not allow commercial use and payments are "
                        f"configured (CREEM_API_KEY); remove it from {setting.upper()}, or set "
                        f"ALLOW_NONCOMMERCIAL_MODELS=true if you hold a licence that allows commercial use"
                    )


def _named(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


for _operation in (InstructEdit(), Inpaint(), Outpaint(), Restyle(), RemoveBackground(), Upscale(), Compose(),
                   Select()):
    register(_operation)
