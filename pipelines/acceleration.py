"""Speed-ups for a loaded diffusers pipeline, each one a named setting (ACCELERATIONS).

Each technique changes how the denoiser runs, never what it computes beyond rounding (the
first-block cache aside, which skips steps whose first block barely changed: an option, off
by default). Unknown names stop the start (config.py); a technique a pipeline or device cannot
use is skipped with a log line, so one setting can serve mixed models.

- `channels_last`: UNets read NHWC tensors, which cuDNN's convolutions prefer on recent GPUs.
- `fuse_qkv`: one matrix multiply for query, key and value instead of three.
- `compile`: `torch.compile` of the denoiser's repeated blocks (regional compilation: each
  distinct block compiles once, so start-up stays short), with static shapes: canvases snap to a
  few size buckets (geometry.size_buckets), one picture per pipeline call, and every bucket is
  compiled by a warm-up edit right after loading (pipelines/warmup.py), before /readyz says ready.
  On ZeroGPU nothing is compiled here: the denoiser is compiled ahead of time in a GPU call at
  start instead (spaces.aoti_compile, pipelines/zerogpu.py).
- `first_block_cache`: diffusers' first-block cache for transformer denoisers (FLUX, Qwen):
  a step whose first block's output changed less than the threshold reuses the rest.
- `fp8`: weights in float8 through torchao, on GPUs with compute capability 8.9 or newer.

- `flash`, `sage`: FlashAttention (FA3 on Hopper, FA2 elsewhere) or SageAttention kernels from the
  Hub through the `kernels` package, set with diffusers' attention dispatcher on transformer
  denoisers (FLUX, Qwen); the SD UNets' attention does not go through the dispatcher. Refused at
  start where no CUDA GPU or no `kernels` package is there (registry.check_settings).

Without these, attention is PyTorch's SDPA (fused kernels, FlashAttention among them, picked by
PyTorch per GPU), which diffusers uses by default.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from pipelines.device import on_zero_gpu

log = logging.getLogger(__name__)

FIRST_BLOCK_CACHE_THRESHOLD = 0.05  # relative change under which a step reuses the cached blocks
COMPILE_BACKEND: Any = "inductor"  # tests pick a backend that needs no compiler and counts compilations
# Shapes one compiled block may see before torch falls back to running it uncompiled: a UNet's
# attention block runs at 3-4 resolutions per canvas, times the size buckets, times the batch its
# guidance makes (3 for InstructPix2Pix, 2 for inpainting and img2img, all sharing the SD 1.5 block).
RECOMPILE_LIMIT = 128
ATTENTION_PACKAGE = "kernels"  # Hub kernels for diffusers' attention dispatcher


def denoiser(pipe: Any) -> Any | None:
    """The pipeline's denoiser: its transformer or its UNet; None for other models."""
    return getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)


def _channels_last(pipe: Any, device: str) -> bool:
    import torch

    unet = getattr(pipe, "unet", None)
    if unet is None:
        return False
    unet.to(memory_format=torch.channels_last)
    return True


def _fuse_qkv(pipe: Any, device: str) -> bool:
    module = denoiser(pipe)
    if module is None or not hasattr(module, "fuse_qkv_projections"):
        return False
    module.fuse_qkv_projections()
    return True


def _compile(pipe: Any, device: str) -> bool:
    module = denoiser(pipe)
    if module is None:
        return False
    if on_zero_gpu():  # compiled ahead of time in the warm-up's GPU call, in the worker (pipelines/zerogpu.py)
        return True
    if device != "cuda" and COMPILE_BACKEND == "inductor":  # on CPU: a compiler toolchain, for little gain
        return False
    import torch._dynamo

    config = torch._dynamo.config
    config.recompile_limit = max(config.recompile_limit, RECOMPILE_LIMIT)
    options = {"fullgraph": True, "dynamic": False, "backend": COMPILE_BACKEND}
    if getattr(module, "_repeated_blocks", None):
        module.compile_repeated_blocks(**options)
    else:
        module.compile(**options)
    return True


def uncompile(pipe: Any) -> None:
    """Undo `compile` (its warm-up failed): every compiled module runs as written again."""
    module = denoiser(pipe)
    for part in module.modules() if module is not None else ():
        if getattr(part, "_compiled_call_impl", None) is not None:
            part._compiled_call_impl = None


def _attention(kind: str) -> Callable[[Any, str], bool]:
    """Set a Hub attention kernel (FlashAttention or SageAttention) on a transformer denoiser."""

    def apply(pipe: Any, device: str) -> bool:
        transformer = getattr(pipe, "transformer", None)
        if device != "cuda" or transformer is None or not hasattr(transformer, "set_attention_backend"):
            return False
        transformer.set_attention_backend(attention_backend(kind))  # fetches the kernel from the Hub once
        return True

    return apply


def attention_backend(kind: str) -> str:
    """diffusers' name of the Hub kernel for `kind` on this GPU: FA3 is for Hopper (sm 9.0) only."""
    import torch

    if kind == "sage":
        return "sage_hub"
    return "_flash_3_hub" if torch.cuda.get_device_capability() == (9, 0) else "flash_hub"


def unavailable(name: str, device_setting: str, gpu_present: bool) -> str | None:
    """Why `name` cannot run here, as a sentence for the start-up error; None when it can (or may)."""
    if name not in ATTENTION_KERNELS:
        return None
    if device_setting in ("cpu", "mps") or not gpu_present:
        return f"ACCELERATIONS names {name}, which needs an NVIDIA GPU with CUDA, and this machine has none."
    if importlib.util.find_spec(ATTENTION_PACKAGE) is None:
        return (f"ACCELERATIONS names {name}, which needs the `{ATTENTION_PACKAGE}` package "
                f"(pip install {ATTENTION_PACKAGE}); it is not installed.")
    return None


def _first_block_cache(pipe: Any, device: str) -> bool:
    from diffusers.hooks import FirstBlockCacheConfig

    transformer = getattr(pipe, "transformer", None)
    if transformer is None or not hasattr(transformer, "enable_cache") or not _marks_cache_context(pipe):
        return False
    transformer.enable_cache(FirstBlockCacheConfig(threshold=FIRST_BLOCK_CACHE_THRESHOLD))
    return True


def _marks_cache_context(pipe: Any) -> bool:
    """diffusers' caches work only where the pipeline names its denoiser calls (`cache_context`): in
    0.42 FluxPipeline and QwenImageEditPipeline do, FluxKontextPipeline does not (it would fail)."""
    import inspect

    try:
        return "cache_context" in inspect.getsource(type(pipe).__call__)
    except (OSError, TypeError):
        return False


def _fp8(pipe: Any, device: str) -> bool:
    import torch

    if device != "cuda" or torch.cuda.get_device_capability() < (8, 9):
        return False
    try:
        from torchao.quantization import Float8WeightOnlyConfig, quantize_
    except ImportError:
        log.warning("fp8 needs the torchao package; skipped")
        return False
    module = denoiser(pipe)
    if module is None:
        return False
    quantize_(module, Float8WeightOnlyConfig())
    return True


TECHNIQUES: dict[str, Callable[[Any, str], bool]] = {
    "channels_last": _channels_last,
    "fuse_qkv": _fuse_qkv,
    "compile": _compile,
    "first_block_cache": _first_block_cache,
    "fp8": _fp8,
    "flash": _attention("flash"),
    "sage": _attention("sage"),
}
ATTENTION_KERNELS = ("flash", "sage")
# What ACCELERATIONS=auto means: safe on every CUDA GPU (exact up to rounding); compile and fp8 on
# data-centre GPUs (Ampere and newer: compile; Ada/Hopper and newer: fp8); nothing on CPU or MPS.
SAFE = ("channels_last", "fuse_qkv")


def default_techniques(device: str) -> tuple[str, ...]:
    if device != "cuda":
        return ()
    import torch

    capability = torch.cuda.get_device_capability()
    extra = ("compile",) if capability >= (8, 0) else ()
    return SAFE + extra + (("fp8",) if capability >= (8, 9) else ())


def resolve(setting: list[str], device: str) -> tuple[str, ...]:
    """The techniques ACCELERATIONS names: "auto" (the default) per device, "none", or a list."""
    if setting in ([], ["auto"]):
        return default_techniques(device)
    if setting == ["none"]:
        return ()
    return tuple(setting)


def accelerate(pipe: Any, techniques: tuple[str, ...], device: str) -> list[str]:
    """Apply each technique it can; returns those applied (a failure is logged and skipped)."""
    applied = []
    for name in techniques:
        try:
            if TECHNIQUES[name](pipe, device):
                applied.append(name)
            else:
                log.info("acceleration %s does not apply to %s on %s", name, type(pipe).__name__, device)
        except Exception as exc:  # noqa: BLE001 - a speed-up must never cost a working model
            log.warning("acceleration %s failed on %s: %s", name, type(pipe).__name__, exc)
    return applied
