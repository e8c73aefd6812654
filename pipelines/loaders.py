"""Loading a model, by kind: an operation's `model_kind` picks the loader here.

Each loader turns a ModelSpec (which weights, from where, which pipeline class) into a
LoadedModel placed on the device. A new kind of model is one function with `@loader("kind")`,
in this file or in the operation's own.

Loading builds torch modules, and diffusers builds them under a process-wide "empty weights"
context (accelerate's init_empty_weights patches module construction): a module built in another
thread meanwhile gets meta tensors. So everything that constructs or loads modules, tiny builds
included, holds BUILDING.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from pipelines.acceleration import accelerate, resolve
from pipelines.device import diffusion_dtype, module_bytes, place_pipeline

if TYPE_CHECKING:
    from config import Settings

BUILDING = threading.RLock()  # one thread at a time constructs or loads torch modules
# A forked child (ZeroGPU's worker) starts with the lock free: the thread that held it in the parent is not there.
os.register_at_fork(after_in_child=BUILDING._at_fork_reinit)  # as logging does for its handlers' locks


@dataclass(frozen=True)
class ModelSpec:
    model_id: str  # what the operator configured
    source: str  # what from_pretrained is given: a Hub id or a folder
    weights: str  # "real" or "tiny"
    kind: str  # a key of LOADERS
    pipeline_class: str | None
    trust_remote_code: bool = False
    tiny_name: str | None = None  # set when demo weights stand in; built on first load

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.pipeline_class or self.kind)


@dataclass(eq=False)
class LoadedModel:
    spec: ModelSpec
    pipe: Any
    device: str
    nbytes: int
    placement: str  # "device", "offload" or "cpu"
    base: LoadedModel | None = None  # set when this pipeline shares another's weights
    accelerations: tuple[str, ...] = ()  # pipelines/acceleration.py techniques applied
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def weights(self) -> str:
        return self.spec.weights


@dataclass(frozen=True)
class LoadContext:
    """What a loader may use besides the spec."""

    device: str
    settings: Settings
    sibling: Callable[[ModelSpec], LoadedModel | None]  # a loaded pipeline on the same weights, if any


Loader = Callable[[ModelSpec, LoadContext], LoadedModel]
LOADERS: dict[str, Loader] = {}


def loader(kind: str) -> Callable[[Loader], Loader]:
    """Register the loader for one kind of model."""

    def register(load: Loader) -> Loader:
        LOADERS[kind] = load
        return load

    return register


@loader("diffusers")
def load_diffusers(spec: ModelSpec, ctx: LoadContext) -> LoadedModel:
    import diffusers

    cls = getattr(diffusers, spec.pipeline_class or "DiffusionPipeline")
    sibling = ctx.sibling(spec)
    if sibling is not None:  # same weights already in memory: build on them
        if spec.pipeline_class is None:  # DiffusionPipeline.from_pipe cannot pick a class: the folder's
            cls = getattr(diffusers, diffusers.DiffusionPipeline.load_config(spec.source)["_class_name"], cls)
        pipe = cls.from_pipe(sibling.pipe)
        if sibling.placement == "offload":
            pipe.enable_model_cpu_offload()
        return LoadedModel(spec, pipe, ctx.device, 0, sibling.placement, base=sibling,
                           accelerations=sibling.accelerations)  # the same modules, already accelerated
    folder_class = diffusers.DiffusionPipeline.load_config(spec.source)["_class_name"]
    pipe = cls.from_pretrained(spec.source, dtype=diffusion_dtype(ctx.device, folder_class))
    pipe.set_progress_bar_config(disable=True)
    nbytes = module_bytes(pipe)
    placement = place_pipeline(pipe, ctx.device, ctx.settings.cpu_offload)
    applied = accelerate(pipe, resolve(ctx.settings.accelerations, ctx.device), ctx.device)
    return LoadedModel(spec, pipe, ctx.device, nbytes, placement, accelerations=tuple(applied))


@loader("segmentation")
def load_segmentation(spec: ModelSpec, ctx: LoadContext) -> LoadedModel:
    from transformers import pipeline

    pipe = pipeline(
        "image-segmentation", model=spec.source, device=ctx.device, trust_remote_code=spec.trust_remote_code
    )
    return LoadedModel(spec, pipe, ctx.device, module_bytes(pipe.model), "device")


@loader("matting")
def load_matting(spec: ModelSpec, ctx: LoadContext) -> LoadedModel:
    """BiRefNet and its kind (pipelines/matting.py): remote code, so not through transformers' pipeline.
    Demo weights load pipelines.matting.TinyMatting from its folder instead: nothing remote runs offline."""
    from pathlib import Path

    import torch

    from pipelines.matting import REAL_SIZE, Matting, load_tiny

    if spec.weights == "tiny":
        model, size = load_tiny(Path(spec.source))
    else:
        from transformers import AutoModelForImageSegmentation

        model = AutoModelForImageSegmentation.from_pretrained(spec.source, trust_remote_code=spec.trust_remote_code)
        size = REAL_SIZE
    dtype = torch.float16 if ctx.device.startswith("cuda") else torch.float32
    model = model.to(ctx.device, dtype=dtype).eval()
    return LoadedModel(spec, Matting(model, size), ctx.device, module_bytes(model), "device")


@loader("segment_anything")
def load_segment_anything(spec: ModelSpec, ctx: LoadContext) -> LoadedModel:
    """SAM 2 (clicks, boxes) or SAM 3 (words), by the folder's model type: the model alone, since their
    processors need torchvision (pipelines/segmenting.py prepares the inputs itself)."""
    from transformers import AutoConfig

    from pipelines.edges import VITMATTE, LazyMatte
    from pipelines.segmenting import SAM2, SAM3, Segmenter

    if spec.weights == "tiny":  # the edge refiner's stand-in, built when a refine first asks for it
        from pipelines import tiny

        root = ctx.settings.tiny_models_path
        matte = LazyMatte(str(root / "vitmatte"), ctx.device, prepare=lambda: tiny.ensure("vitmatte", root))
    else:
        matte = LazyMatte(VITMATTE, ctx.device)
    config = AutoConfig.from_pretrained(spec.source)
    if config.model_type == SAM3:
        from transformers import AutoTokenizer, Sam3Model

        model = Sam3Model.from_pretrained(spec.source).to(ctx.device).eval()
        segmenter = Segmenter(model, SAM3, config.vision_config.backbone_config.image_size, matte,
                              AutoTokenizer.from_pretrained(spec.source))
    else:
        from transformers import Sam2Model

        model = Sam2Model.from_pretrained(spec.source).to(ctx.device).eval()
        segmenter = Segmenter(model, SAM2, config.prompt_encoder_config.image_size, matte)
    return LoadedModel(spec, segmenter, ctx.device, module_bytes(model), "device")


class SuperResolution(NamedTuple):
    model: Any
    processor: Any


@loader("super_resolution")
def load_super_resolution(spec: ModelSpec, ctx: LoadContext) -> LoadedModel:
    from transformers import AutoImageProcessor, Swin2SRForImageSuperResolution

    model = Swin2SRForImageSuperResolution.from_pretrained(spec.source).to(ctx.device).eval()
    processor = AutoImageProcessor.from_pretrained(spec.source)
    return LoadedModel(spec, SuperResolution(model, processor), ctx.device, module_bytes(model), "device")
