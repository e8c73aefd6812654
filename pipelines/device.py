"""Which device and precision a model runs with, and how it is placed there.

CUDA: fp16 for the Stable Diffusion family, bf16 for transformer-based editors (Flux, Qwen),
model CPU offload when the free memory is short. Apple MPS: the same precisions, no offload.
CPU: float32 (fp16 on CPU is ~17x slower) and never an offload call (they raise there).
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import psutil

log = logging.getLogger(__name__)

BF16_FAMILIES = ("Flux", "QwenImage")  # pipeline class name prefixes trained in bf16
OFFLOAD_HEADROOM = 1.25  # activations and the VAE need room beyond the weights
LARGE_GPU_BYTES = 16 * 2**30  # FLUX.2 [klein] 4B in bf16: ~8 GB transformer + ~8 GB Qwen3-4B text encoder


def pick_device(preference: str = "auto") -> str:
    import torch

    if preference != "auto":
        return preference
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def prefers_large_models(device: str, total_bytes: int) -> bool:
    """Whether a device runs the larger, better defaults (FLUX.2 [klein]): CUDA with at least 16 GB.
    Smaller GPUs, MPS and the CPU keep the small defaults (InstructPix2Pix, SD inpainting)."""
    return device == "cuda" and total_bytes >= LARGE_GPU_BYTES


@cache
def large_gpu(preference: str = "auto") -> bool:
    """`prefers_large_models` for the device the models will run on, asked once.

    Where no NVIDIA driver is visible (or DEVICE says cpu or mps) the answer is no without importing
    torch, so on such machines the page still starts without waiting for it; elsewhere the first call
    imports torch to read the GPU's memory.
    """
    if preference in ("cpu", "mps") or (preference == "auto" and not nvidia_driver_present()):
        return False
    device = pick_device(preference)
    return prefers_large_models(device, total_memory(device) if device == "cuda" else 0)


def on_zero_gpu() -> bool:
    """On a Hugging Face ZeroGPU Space: the GPU is lent per call, in a forked worker (pipelines/zerogpu.py)."""
    return bool(os.environ.get("SPACES_ZERO_GPU"))


def nvidia_driver_present() -> bool:
    return os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidiactl")


def diffusion_dtype(device: str, pipeline_class: str):  # -> torch.dtype
    import torch

    if device == "cpu":
        return torch.float32
    if pipeline_class.startswith(BF16_FAMILIES):
        return torch.bfloat16
    return torch.float16


def module_bytes(obj: Any) -> int:
    """Bytes of parameters and buffers in a torch module, or in a pipeline's modules."""
    import torch

    modules = obj.components.values() if hasattr(obj, "components") else [obj]
    total = 0
    for module in modules:
        if isinstance(module, torch.nn.Module):
            total += sum(t.numel() * t.element_size() for t in module.parameters())
            total += sum(t.numel() * t.element_size() for t in module.buffers())
    return total


def free_memory(device: str) -> int:
    import torch

    if device == "cuda":
        free, _total = torch.cuda.mem_get_info()
        return free
    return psutil.virtual_memory().available


def total_memory(device: str) -> int:
    import torch

    if device == "cuda":
        return torch.cuda.get_device_properties(0).total_memory
    return psutil.virtual_memory().total


def place_pipeline(pipe: Any, device: str, policy: str) -> str:
    """Move a diffusers pipeline to `device`; on CUDA offload when told to or when memory is short.

    Returns how it was placed: "device", "offload" or "cpu".
    """
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        need = module_bytes(pipe) * OFFLOAD_HEADROOM
        short = need > free_memory("cuda")
        if policy == "always" or (policy == "auto" and short):
            pipe.enable_model_cpu_offload()
            log.info("model CPU offload on (needs %.1f GB)", need / 1e9)
            return "offload"
    pipe.to(device)
    return "device"


def set_vae_tiling(pipe: Any, on: bool) -> None:
    """Decode big images tile by tile; diffusers moved the switch onto the VAE itself."""
    vae = getattr(pipe, "vae", None)
    if vae is None or not hasattr(vae, "enable_tiling"):
        return
    if on:
        vae.enable_tiling()
    else:
        vae.disable_tiling()

