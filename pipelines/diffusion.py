"""What every diffusers-based operation shares: batching the call, seeds, progress, size rules."""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from pipelines.base import Operation, Prepared, StepFn
from pipelines.device import set_vae_tiling
from pipelines.geometry import Canvas, fit_canvas, from_model, to_model
from pipelines.images import flatten

if TYPE_CHECKING:
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

VAE_TILING_PIXELS = 1536 * 1536  # decode larger canvases tile by tile

# Steps and guidance for pipelines whose models want other defaults than the operation's.
# FLUX.2 [klein] 4B is step-distilled: 4 steps and guidance 1.0, what diffusers' klein pipelines expect of
# a distilled model (they ignore guidance, with a warning above 1.0, when the folder says is_distilled).
# Not re-checked against the model card offline; the tiny stand-in is saved with is_distilled=True.
SAMPLING_DEFAULTS: dict[str, tuple[int, float]] = {
    "Flux2KleinPipeline": (4, 1.0),
    "Flux2KleinInpaintPipeline": (4, 1.0),
}


def size_multiple(pipe: Any) -> int:
    """Sides must be multiples of this: the VAE stride (x2 for patchified transformers), and of 8."""
    stride = int(getattr(pipe, "vae_scale_factor", 8))
    if hasattr(pipe, "transformer"):
        stride *= 2
    return math.lcm(8, stride)


def accepts(pipe: Any, argument: str) -> bool:
    return argument in inspect.signature(pipe.__call__).parameters


class DiffusionOperation(Operation):
    model_kind = "diffusers"
    default_steps: ClassVar[int] = 25
    default_guidance: ClassVar[float] = 7.5

    def sampling(self, request: EditRequest, pipe: Any = None) -> dict[str, Any]:
        steps, guidance = SAMPLING_DEFAULTS.get(type(pipe).__name__, (self.default_steps, self.default_guidance))
        return {
            "num_inference_steps": request.steps or steps,
            "guidance_scale": guidance if request.guidance is None else request.guidance,
        }

    def call_arguments(self, pipe: Any, arguments: dict[str, Any]) -> dict[str, Any]:
        """`arguments` less those the pipeline does not take (FLUX.2 [klein] has no negative prompt)."""
        return {name: value for name, value in arguments.items() if name != "negative_prompt" or accepts(pipe, name)}

    def fit_whole(self, request: EditRequest, model: LoadedModel, limits: Limits) -> tuple[Image.Image, Canvas]:
        """The whole picture on the model's canvas (for edits that change everything)."""
        image = flatten(request.image)
        canvas = self.canvas(image.size, model, limits)
        return to_model(image, canvas), canvas

    def canvas(self, size: tuple[int, int], model: LoadedModel, limits: Limits, min_pixels: int = 0) -> Canvas:
        """The model's canvas for a picture of `size`: one of the size buckets when the model is compiled."""
        return fit_canvas(size, max_pixels=limits.working_pixels, multiple=size_multiple(model.pipe),
                          min_pixels=min_pixels, bucketed=limits.bucketed)

    def call_inputs(self, batch: list[Prepared]) -> dict[str, Any]:
        """The items' own arguments as the pipeline takes them: each one listed across the batch."""
        return {name: [item.model_input[name] for item in batch] for name in batch[0].model_input}

    def one_per_call(self, model: LoadedModel) -> bool:
        """Must a batch go to the pipeline one item at a time? A compiled model would meet a new shape (and
        compile again, on a visitor's time); operations add their own reasons."""
        return model.compiled

    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]:
        import torch

        if len(batch) > 1 and self.one_per_call(model):
            return [image for item in batch for image in self.forward(model, [item], on_step)]
        pipe = model.pipe
        kwargs: dict[str, Any] = {**batch[0].shared, **self.call_inputs(batch)}
        # CPU generators: the same seed gives the same noise on every device
        kwargs["generator"] = [torch.Generator("cpu").manual_seed(item.seed) for item in batch]

        def step_done(pipeline: Any, step: int, _timestep: Any, tensors: dict) -> dict:
            # PNDM may run one timestep more than asked: the pipeline's own count is the truth
            total = getattr(pipeline, "num_timesteps", None) or len(pipeline.scheduler.timesteps)
            on_step(step + 1, total)
            return tensors

        kwargs["callback_on_step_end"] = step_done
        width, height = kwargs["image"][0].size
        set_vae_tiling(pipe, width * height > VAE_TILING_PIXELS)
        with torch.inference_mode():
            return list(pipe(**kwargs).images)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        return keep_alpha(prepared.request.image, from_model(output, prepared.restore["canvas"]))


def keep_alpha(original: Image.Image, result: Image.Image) -> Image.Image:
    """Give a whole-picture edit back the transparency its input had."""
    if original.mode != "RGBA" or result.size != original.size:
        return result
    result = result.convert("RGBA")
    result.putalpha(original.getchannel("A"))
    return result
