"""Real-size models with random weights: the real architectures, checked without downloading them.

pipelines/configs/<name>.json holds a real model's configuration (its pipeline class and, per
component, the class and config.json the model repo ships). `build` constructs every component
from it with random weights and saves the pipeline like tiny.py does, so it loads with
`from_pretrained` the way real weights do:

  depth="full"     the real model, layer for layer (a GPU benchmark's stand-in);
  depth="reduced"  only the depth cut (layers per block, transformer and text-encoder layers,
                   Swin2SR and Hiera blocks per stage); every width, channel count, head count, vocabulary
                   and scaling factor stays real, so shapes, dtypes, pipeline class, latent and
                   mask channels, VAE scaling and size multiples are the real model's (CPU, CI).

Tokenizers are built in memory (tiny.py's): their vocabulary only decides which embedding rows
are used, and the text encoders keep the real vocabulary size, so their embeddings are real-size.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipelines.loaders import BUILDING, ModelSpec

if TYPE_CHECKING:
    from pipelines.base import Operation

log = logging.getLogger(__name__)

CONFIGS = Path(__file__).parent / "configs"
Depth = Literal["reduced", "full"]

# The real model ids the operations offer, and the config that describes each.
REAL_IDS: dict[str, str] = {
    "timbrooks/instruct-pix2pix": "sd15-pix2pix",
    "stable-diffusion-v1-5/stable-diffusion-inpainting": "sd15-inpaint",
    "stable-diffusion-v1-5/stable-diffusion-v1-5": "sd15",
    "black-forest-labs/FLUX.1-Kontext-dev": "flux1-kontext",
    "caidas/swin2SR-classical-sr-x2-64": "swin2sr-x2",
    "caidas/swin2SR-classical-sr-x4-64": "swin2sr-x4",
    "black-forest-labs/FLUX.2-klein-4B": "flux2-klein-4b",
    "Qwen/Qwen-Image-Edit-2511": "qwen-image-edit-2511",
    "facebook/sam2.1-hiera-small": "sam2.1-hiera-small",
    "facebook/sam3": "sam3",
    "hustvl/vitmatte-small-composition-1k": "vitmatte-small",  # select's edge refinement (pipelines/edges.py)
}
# Models the operations offer that have no config here, and why.
NOT_DESCRIBED: dict[str, str] = {
    "briaai/RMBG-1.4": "its architecture is remote code in the model repo (BriaRMBG), not in transformers",
    "ZhengPeng7/BiRefNet": "its architecture is remote code in the model repo (BiRefNet), not in transformers",
    "Qwen/Qwen-Image-Edit-2511+Lightning-4steps": "Qwen-Image-Edit-2511's architecture (qwen-image-edit-2511) "
                                                  "with a LoRA fused into its weights: no shape changes",
    "Qwen/Qwen-Image-Edit-2511+Lightning-8steps": "likewise",
}

# How "reduced" cuts depth, per class: only the number of layers or blocks changes.
REDUCED_DEPTH: dict[str, dict[str, Any]] = {
    "UNet2DConditionModel": {"layers_per_block": 1},
    "AutoencoderKL": {"layers_per_block": 1},
    "FluxTransformer2DModel": {"num_layers": 1, "num_single_layers": 1},
    "CLIPTextModel": {"num_hidden_layers": 1},
    "T5EncoderModel": {"num_layers": 1, "num_decoder_layers": 1},
    "Flux2Transformer2DModel": {"num_layers": 1, "num_single_layers": 1},
    "AutoencoderKLFlux2": {"layers_per_block": 1},
    "Qwen3ForCausalLM": {"num_hidden_layers": 1},
    "QwenImageTransformer2DModel": {"num_layers": 1},
    "AutoencoderKLQwenImage": {"num_res_blocks": 1},
    "Qwen2_5_VLForConditionalGeneration": {"num_hidden_layers": 1},  # and one vision block (component_config)
}
# Tokenizers and processors built in memory (pipelines/tiny.py), by the name a config gives them.
IN_MEMORY = {"clip": "_clip_tokenizer", "t5": "_t5_tokenizer", "qwen": "_qwen_tokenizer",
             "qwen-vl": "qwen_vl_tokenizer", "qwen-vl-processor": "qwen_vl_processor"}
DENOISERS = ("unet", "transformer", "model")


def names() -> list[str]:
    return sorted(path.stem for path in CONFIGS.glob("*.json"))


def config(name: str) -> dict[str, Any]:
    return json.loads((CONFIGS / f"{name}.json").read_text())


def component_config(cls: str, config: dict[str, Any], depth: Depth) -> dict[str, Any]:
    """A component's config at `depth`: the real one, or with only its depth cut."""
    config = dict(config)
    if depth == "full":
        return config
    config.update(REDUCED_DEPTH.get(cls, {}))
    if cls == "Swin2SRForImageSuperResolution":  # every stage kept, one Swin layer in each
        config["depths"] = [1] * len(config["depths"])
    if cls == "Qwen2_5_VLForConditionalGeneration":  # one vision block as well
        config["vision_config"] = {**config["vision_config"], "depth": 1}
    if cls == "Sam2Model":  # every Hiera stage kept, one block in each, and in the third (where the real model
        # has its global-attention blocks) a second one that is global: a stage's first block pools, never global
        backbone = dict(config["vision_config"]["backbone_config"])
        backbone.update(blocks_per_stage=[1, 1, 2, 1], global_attention_blocks=[3])
        config["vision_config"] = {**config["vision_config"], "backbone_config": backbone}
    if cls == "Sam3Model":  # two ViT blocks, the second global as blocks 7/15/23/31 are; one layer everywhere else
        backbone = {**config["vision_config"]["backbone_config"], "num_hidden_layers": 2, "global_attn_indexes": [1]}
        config["vision_config"] = {**config["vision_config"], "backbone_config": backbone}
        config["text_config"] = {**config["text_config"], "num_hidden_layers": 1}
        for part in ("geometry_encoder_config", "detr_encoder_config", "detr_decoder_config"):
            config[part] = {**config[part], "num_layers": 1}
    if cls == "VitMatteForImageMatting":  # one windowed block, then one global with its residual conv block
        backbone = dict(config["backbone_config"])
        backbone.update(num_hidden_layers=2, window_block_indices=[0], residual_block_indices=[1],
                        out_features=["stage2"])
        config["backbone_config"] = backbone
    return config


def build(name: str, folder: Path, *, depth: Depth, dtype: Any = None, device: str = "cpu") -> Path:
    """Save config `name` at `depth` with random weights into `folder` (skipped when already complete).

    `dtype` (a torch dtype; default float32) and `device` are where the weights are made: a full-depth
    FLUX is built in bf16 on the GPU, since float32 on the CPU would take 48 GB and many minutes.
    """
    folder = Path(folder)
    if (folder / ".complete").exists():
        return folder
    with BUILDING:  # building constructs torch modules: never beside a load in another thread
        if (folder / ".complete").exists():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            _save(name, staging, depth, dtype, device)
            (staging / ".complete").touch()
            if folder.exists():  # a half-built folder from a crash
                shutil.rmtree(folder)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if device.startswith("cuda"):  # the built modules are gone: give their memory back for the load
                import torch

                gc.collect()
                torch.cuda.empty_cache()
        log.info("built real-size %s (%s depth) in %s", name, depth, folder)
    return folder


def spec(op: Operation, model_id: str, folder: Path) -> ModelSpec:
    """The spec ModelManager.use loads a built folder from, as it would the real weights of `model_id`."""
    return ModelSpec(model_id=model_id, source=str(folder), weights="real", kind=op.kind_of(model_id),
                     pipeline_class=op.pipeline_class_for(model_id))


def facts(name: str, depth: Depth = "full") -> dict[str, Any]:
    """Key facts of a config at `depth`, counted on the meta device (no memory, no weights): for a benchmark."""
    import torch

    described = config(name)
    parameters: dict[str, int] = {}
    with torch.device("meta"):
        for part, entry in described["components"].items():
            if _is_model(entry):
                parameters[part] = sum(p.numel() for p in _component(entry, depth).parameters())
    denoiser = next(part for part in DENOISERS if part in described["components"])
    components = described["components"]
    vae = (components.get("vae") or {}).get("config", {})
    result = {
        "name": name,
        "stands_for": described["stands_for"],
        "licence": described["licence"],
        "pipeline": described["pipeline"],
        "depth": depth,
        "denoiser": components[denoiser]["class"],
        "denoiser_parameters": parameters[denoiser],
        "parameters": parameters,
        "total_parameters": sum(parameters.values()),
        "bf16_gb": round(sum(parameters.values()) * 2 / 1e9, 2),
    }
    if vae:
        # AutoencoderKL(Flux2) halves the size per block; Qwen-Image's VAE once per temporal-downsample entry
        halvings = len(vae["temperal_downsample"]) if "z_dim" in vae else len(vae["block_out_channels"]) - 1
        stride = 2**halvings
        patchified = denoiser == "transformer"
        result.update(
            latent_channels=vae.get("latent_channels", vae.get("z_dim")),
            vae_scaling_factor=vae.get("scaling_factor"),  # None: normalised by latents_mean/std or batch norm
            vae_shift_factor=vae.get("shift_factor"),
            denoiser_in_channels=components[denoiser]["config"]["in_channels"],
            size_multiple=math.lcm(8, stride * (2 if patchified else 1)),
        )
    elif "upscale" in components["model"]["config"]:
        result["upscale"] = components["model"]["config"]["upscale"]
    return result


# ------------------------------------------------------------------ building


def instantiate(name: str, *, depth: Depth, dtype: Any = None, device: str = "cpu") -> Any:
    """Config `name` built in memory with random weights: a diffusers pipeline, or (model, processor).

    device="meta" gives every shape and no weights: a check of the architecture that costs nothing.
    """
    import torch

    described = config(name)
    previous = torch.get_default_dtype()
    torch.manual_seed(0)
    try:
        if dtype is not None:
            torch.set_default_dtype(dtype)
        with torch.device(device):  # weights made where they will run: fast on a GPU
            built = {part: _component(entry, depth) for part, entry in described["components"].items()
                     if _is_model(entry)}
    finally:
        torch.set_default_dtype(previous)
    built.update({part: _component(entry, depth) for part, entry in described["components"].items()
                  if part not in built})  # schedulers, tokenizers, processors: no weights
    if described["library"] == "transformers":  # one model and its processor, as the repo has them
        return built["model"], built["processor"]
    import diffusers

    cls = getattr(diffusers, described["pipeline"])
    for optional in cls._optional_components:
        built.setdefault(optional, None)
    return cls(**built, **described.get("arguments", {}))


def _save(name: str, folder: Path, depth: Depth, dtype: Any, device: str) -> None:
    made = instantiate(name, depth=depth, dtype=dtype, device=device)
    for part in made if isinstance(made, tuple) else (made,):
        if part is not None:  # a model whose processor is made elsewhere (SAM 2: pipelines/segmenting.py)
            part.save_pretrained(folder)
    if not isinstance(made, tuple):
        from pipelines.processors import save_as_stock

        save_as_stock(folder)  # an image-only Qwen2VL processor is named as the stock class, as the repo names it


def _is_model(entry: dict[str, Any] | None) -> bool:
    """A component with weights (not a scheduler, tokenizer or processor)."""
    if not entry or "config" not in entry:
        return False
    cls = getattr(__import__(entry["library"]), entry["class"])
    if entry["library"] == "diffusers":
        from diffusers import ModelMixin

        return issubclass(cls, ModelMixin)
    return hasattr(cls, "config_class")


def _component(entry: dict[str, Any] | None, depth: Depth) -> Any:
    if entry is None:
        return None
    if "in_memory" in entry:
        from pipelines import tiny

        return getattr(tiny, IN_MEMORY[entry["in_memory"]])()
    library = __import__(entry["library"])
    cls = getattr(library, entry["class"])
    settings = component_config(entry["class"], entry.get("config", {}), depth)
    if entry["library"] == "diffusers":
        return cls.from_config(settings)
    if hasattr(cls, "config_class"):  # a transformers model
        return cls(cls.config_class(**settings))
    return cls(**settings)  # a transformers processor


if __name__ == "__main__":  # python -m pipelines.real_size [reduced]: every config's facts, for a benchmark
    import sys

    depth: Depth = "reduced" if sys.argv[1:] == ["reduced"] else "full"
    print(json.dumps([facts(name, depth) for name in names()], indent=2))
