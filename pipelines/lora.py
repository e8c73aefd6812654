"""LoRA weights fused into a loaded pipeline: a step-distilled variant of a model is its base plus a LoRA.

diffusers loads the file (with peft), converting other trainers' key names to its own; fusing adds the
LoRA into the base weights, so a step costs what the base's step costs, and unloading then drops the
LoRA's own copies. The fused weights are a model of their own: ModelManager never shares them with the
plain base (pipelines/models.py), and each is loaded, budgeted and unloaded like any other model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.base import Lora

# Scheduler settings a LoRA was distilled with, applied over the base's scheduler config.
SCHEDULERS: dict[str, dict[str, Any]] = {
    # Qwen-Image-Lightning (lightx2v): flow matching with a fixed shift of 3 (base_shift = max_shift = ln 3,
    # exponential time shift), as the diffusers example on the Qwen-Image-Lightning model card sets it.
    # Taken over for the Qwen-Image-Edit-2511 Lightning LoRA; not re-checked against that card offline.
    "lightning": {
        "base_image_seq_len": 256, "max_image_seq_len": 8192, "base_shift": math.log(3), "max_shift": math.log(3),
        "shift": 1.0, "shift_terminal": None, "time_shift_type": "exponential", "use_dynamic_shifting": True,
        "invert_sigmas": False, "stochastic_sampling": False,
        "use_karras_sigmas": False, "use_exponential_sigmas": False, "use_beta_sigmas": False,
    },
}

ADAPTER = "fused"


def fuse(pipe: Any, lora: Lora, source: str, file: str) -> None:
    """Load `file` from `source` (a Hub repo or a folder), fuse it into the pipeline's weights, and set the
    scheduler `lora` was made for. (`file` is `lora.file`, or the tiny stand-in's LoRA on demo weights.)"""
    pipe.load_lora_weights(source, weight_name=file, adapter_name=ADAPTER)
    pipe.fuse_lora(adapter_names=[ADAPTER], lora_scale=1.0)
    pipe.unload_lora_weights()  # the fused weights stay; the adapter's A/B matrices go
    if lora.scheduler:
        pipe.scheduler = type(pipe.scheduler).from_config({**pipe.scheduler.config, **SCHEDULERS[lora.scheduler]})
