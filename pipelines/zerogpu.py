"""Hugging Face ZeroGPU: a batch's device work, handed to `spaces.GPU` by its rules.

`spaces.GPU` runs the decorated function in a forked worker process and sends the arguments and
the return value through a multiprocessing queue, pickled; exceptions other than Gradio's come back
as a bare "ZeroGPU worker error". So `run_batch`, the function it gets:
  - takes plain values: the operation id, the model's spec (strings: which model, and how to load it
    if the worker lacks it) and the items as `forward` needs them (pictures, prompts, numbers);
  - finds the model in a module-level registry (`_models`) that the forked worker inherits;
  - returns a DeviceOutcome (pictures, or an error's class name and message), never raises;
  - reports no progress and takes no callback (a closure cannot cross), so a Cancel takes effect
    between batches: the device queue drops a cancelled job before its batch starts and discards
    its output after, but a batch on the GPU runs to its end.
Its duration is estimated per call from the work size (steps x megapixels x batch), capped at
ZERO_GPU_DURATION_S. Off ZeroGPU none of this runs: the work is called in-process, unpickled.

With ACCELERATIONS=compile, torch.compile would compile again in every worker, on a visitor's time.
So the denoiser is compiled ahead of time instead, once, at start (`compile_ahead`, the warm-up of
pipelines/warmup.py): in one GPU call, `compile_denoiser` runs each size bucket's warm-up edit under
`spaces.aoti_capture` (which stops at the denoiser's first call and keeps its inputs), exports the
denoiser with those inputs (torch.export) and compiles it with `spaces.aoti_compile`; back here,
`spaces.aoti_apply` puts the compiled buckets in place of the denoiser's forward (and frees its
weights: the compiled model holds them). A shape no bucket has cannot run then, and fails with a
sentence in the log (the edit reports a failure).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from kernel.errors import RunCancelled, RunFailed, UserError
from pipelines.device import on_zero_gpu
from pipelines.registry import get_operation

if TYPE_CHECKING:
    from pipelines.base import Operation, Prepared
    from pipelines.batcher import BatchWork
    from pipelines.loaders import LoadedModel, ModelSpec
    from pipelines.models import ModelManager

log = logging.getLogger(__name__)

BASE_S = 10.0  # starting the worker and moving the weights onto the GPU
AOTI_DURATION_S = 1500  # the ahead-of-time compilation at start: minutes per bucket on a GPU
SECONDS_PER_STEP_MEGAPIXEL = 1.0  # a Flux-class model; Stable Diffusion is several times faster
KNOWN_ERRORS: dict[str, type[Exception]] = {cls.__name__: cls for cls in (RunCancelled, RunFailed, UserError)}

_models: ModelManager | None = None  # the registry the forked worker inherits (one app per process)
_warming: dict[tuple[str, str], LoadedModel] = {}  # loaded, not registered yet: compile_ahead's model
_cap_s = 60


class DeviceError(RuntimeError):
    """An error raised in the GPU worker, rebuilt here from its class name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


@dataclass(frozen=True)
class DeviceOutcome:
    """What crosses back from the worker: one picture per item, or the error that stopped the batch."""

    outputs: list[Any] | None = None
    error_type: str = ""
    error_message: str = ""

    def result(self) -> list[Any]:
        if self.outputs is not None:
            return self.outputs
        known = KNOWN_ERRORS.get(self.error_type)
        raise known(self.error_message) if known else DeviceError(self.error_type, self.error_message)


def run_batch(operation_id: str, spec: ModelSpec, items: list[Prepared]) -> DeviceOutcome:
    """The device work of one batch, in the GPU worker: everything in and out is picklable."""
    try:
        if _models is None:
            raise RuntimeError("no model manager attached (pipelines.zerogpu.attach)")
        op = get_operation(operation_id)
        with _models.use(spec) as model:  # inherited at the fork; loaded here if it came later
            return DeviceOutcome(outputs=op.forward(model, items, _no_progress))
    except Exception as exc:  # sent back as plain values; the traceback is logged here, in the worker
        log.error("the GPU worker's batch of %s failed: %s", operation_id, type(exc).__name__, exc_info=exc)
        return DeviceOutcome(error_type=type(exc).__name__, error_message=str(exc))


class BucketedModel:
    """The denoiser compiled ahead of time, one compiled model per size bucket, picked by the shapes of
    the call's tensors. Picklable (it crosses back from the worker); the buckets share one copy of the
    weights where their names agree, so the weights cross and stay in memory once."""

    def __init__(self, compiled: dict[tuple, Any]) -> None:
        self.compiled = compiled
        first = next(iter(compiled.values()), None)
        names = set(_weight_names(first))
        for other in compiled.values():
            if names and set(_weight_names(other)) == names:
                other.weights = first.weights

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = _shapes(args, kwargs)
        compiled = self.compiled.get(key)
        if compiled is None:
            raise RuntimeError(f"no denoiser was compiled ahead of time for inputs of shapes {key}")
        return compiled(*args, **kwargs)


def compile_denoiser(operation_id: str, spec: ModelSpec, edits: list[Prepared]) -> BucketedModel:
    """In the GPU worker: capture the denoiser's inputs for each bucket's edit, export, compile ahead of time."""
    import spaces
    import torch
    from torch.utils._pytree import tree_map_only

    from pipelines.acceleration import denoiser

    op = get_operation(operation_id)
    model = _warming.get(spec.key)
    if model is None:
        raise RuntimeError(f"{spec.model_id} is not being warmed up (pipelines.zerogpu.compile_ahead)")
    module = denoiser(model.pipe)
    compiled: dict[tuple, Any] = {}
    for prepared in edits:
        with spaces.aoti_capture(module) as call:
            op.forward(model, [prepared], _no_progress)
        # captured under inference_mode: export wants ordinary tensors
        args, kwargs = tree_map_only(torch.Tensor, torch.Tensor.clone, (call.args, call.kwargs))
        with torch.no_grad():
            exported = torch.export.export(module, args=tuple(args), kwargs=kwargs)
        compiled[_shapes(args, kwargs)] = spaces.aoti_compile(exported)
    return BucketedModel(compiled)


def estimate_duration(operation_id: str, spec: ModelSpec, items: list[Prepared]) -> int:
    """Seconds to ask ZeroGPU for (takes run_batch's arguments): shorter requests are scheduled sooner,
    and a run past its duration is stopped, so ask for what the work needs, up to the cap."""
    steps = max((int(item.shared.get("num_inference_steps") or 1) for item in items), default=1)
    megapixels = sum(_megapixels(item) for item in items)
    return max(1, min(_cap_s, math.ceil(BASE_S + SECONDS_PER_STEP_MEGAPIXEL * steps * megapixels)))


class ZeroGpuWork:
    """Builds a job's batch work that goes through `spaces.GPU` (EditService's `device_work`)."""

    def __init__(self, gpu_batch: Callable[[str, ModelSpec, list[Prepared]], DeviceOutcome],
                 gpu_compile: Callable[[str, ModelSpec, list[Prepared]], BucketedModel] | None = None) -> None:
        self._gpu_batch = gpu_batch
        self._gpu_compile = gpu_compile

    def compile_ahead(self, op: Operation, model: LoadedModel, edits: list[Prepared]) -> None:
        """A compiled model's warm-up on ZeroGPU (EditService.warm_up): compile its denoiser ahead of time
        for the buckets of `edits` in one GPU call, and put the result in place here."""
        import spaces

        from pipelines.acceleration import denoiser

        if self._gpu_compile is None:
            raise RuntimeError("no ahead-of-time compilation was attached (pipelines.zerogpu.attach)")
        _warming[model.spec.key] = model  # the worker, forked during the call, finds it here
        try:
            compiled = self._gpu_compile(op.id, model.spec, [item.on_device() for item in edits])
        finally:
            _warming.pop(model.spec.key, None)
        spaces.aoti_apply(compiled, denoiser(model.pipe))

    def __call__(self, op: Operation, model: LoadedModel) -> BatchWork:
        return partial(self._run, op.id, model.spec)

    def _run(self, operation_id: str, spec: ModelSpec, items: list[Prepared], _on_step: Any) -> list[Any]:
        # _on_step stays here: progress during the GPU call is not reported (see the module's docstring)
        return self._gpu_batch(operation_id, spec, [item.on_device() for item in items]).result()


def attach(models: ModelManager, cap_s: int) -> ZeroGpuWork | None:
    """On ZeroGPU (SPACES_ZERO_GPU set, `spaces` importable): register `models` for the worker and
    return the device work that goes through `spaces.GPU`; else None (the work runs in-process)."""
    global _models, _cap_s
    if not on_zero_gpu():
        return None
    try:
        import spaces
    except ImportError:
        log.warning("SPACES_ZERO_GPU is set but the `spaces` package is missing; running without it")
        return None
    _models, _cap_s = models, cap_s
    return ZeroGpuWork(spaces.GPU(run_batch, duration=estimate_duration),
                       spaces.GPU(compile_denoiser, duration=AOTI_DURATION_S))


def _shapes(args: Any, kwargs: Any) -> tuple:
    """What tells the buckets apart: the shapes of a call's tensors, in order (kwargs by name)."""
    from torch.utils._pytree import tree_leaves

    return tuple(tuple(leaf.shape) for leaf in tree_leaves((args, dict(sorted(kwargs.items()))))
                 if hasattr(leaf, "shape"))


def _weight_names(compiled: Any) -> list[str]:
    return list(getattr(getattr(compiled, "weights", None), "constants_map", {}) or {})


def _megapixels(item: Prepared) -> float:
    image = item.model_input.get("image")
    size = getattr(image, "size", None)
    return size[0] * size[1] / 1e6 if isinstance(size, tuple) else 0.0


def _no_progress(_done: int, _total: int) -> None:
    """No callback crosses to the worker; the page shows the run as going until the batch returns."""


def _after_fork_in_child() -> None:
    """In the GPU worker: fresh model locks, and torch on one CPU thread, as DataLoader workers do:
    OpenMP's thread pool does not survive a fork, and a CPU op that goes parallel would hang."""
    if _models is None:
        return
    _models.after_fork()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


os.register_at_fork(after_in_child=_after_fork_in_child)
