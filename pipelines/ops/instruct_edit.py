"""Edit with an instruction: InstructPix2Pix by default; FLUX.1 Kontext or Qwen-Image-Edit by choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from kernel.errors import RunFailed
from pipelines.base import Model, Prepared, StepFn
from pipelines.diffusion import DiffusionOperation, accepts
from pipelines.examples import Example
from pipelines.geometry import at_least
from pipelines.inputs import GUIDANCE, IMAGE, MODEL, PROMPT, SEED, STEPS

if TYPE_CHECKING:
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel


@dataclass(frozen=True)
class Family:
    """How one kind of instruction-editing pipeline wants to be called."""

    steps: int
    guidance: float
    guidance_argument: str = "guidance_scale"
    extra: dict[str, Any] = field(default_factory=dict)
    min_side: int = 0  # the picture is enlarged to at least this many pixels a side (the canvas is not)
    one_per_call: bool = False  # the pipeline reads a list of pictures as references for one edit


FAMILIES = {
    "StableDiffusionInstructPix2PixPipeline": Family(steps=20, guidance=7.5, extra={"image_guidance_scale": 1.5}),
    "FluxKontextPipeline": Family(steps=28, guidance=2.5, extra={"_auto_resize": False}),
    # FLUX.2 [klein] 4B is step-distilled: 4 steps; guidance 1.0 (see pipelines/diffusion.py
    # SAMPLING_DEFAULTS: the pipeline ignores guidance for a distilled model). The picture goes in as a
    # reference image, which must be at least 64 px a side; the pipeline takes a list of references per
    # prompt, so one item per call.
    "Flux2KleinPipeline": Family(steps=4, guidance=1.0, min_side=64, one_per_call=True),
    "QwenImageEditPipeline": Family(
        steps=50, guidance=4.0, guidance_argument="true_cfg_scale", extra={"negative_prompt": " "}
    ),
    "QwenImageEditPlusPipeline": Family(
        steps=40, guidance=4.0, guidance_argument="true_cfg_scale", extra={"negative_prompt": " "}
    ),
}

KLEIN = "black-forest-labs/FLUX.2-klein-4B"


class InstructEdit(DiffusionOperation):
    id = "instruct_edit"
    texts = {
        "en": {
            "label": "Edit with an instruction",
            "help": "Say what to change, e.g. “make it winter” or “turn the car red”.",
            "example": "A winter evening",
            "prompt": "Instruction",
            "prompt_missing": "Please type an instruction first, e.g. “make it winter”.",
        },
        "sv": {
            "label": "Redigera med en instruktion",
            "help": "Säg vad som ska ändras, t.ex. ”gör det vintrigt” eller ”gör bilen röd”.",
            "example": "En vinterkväll",
            "prompt": "Instruktion",
            "prompt_missing": "Skriv en instruktion först, t.ex. ”gör det vintrigt”.",
        },
    }
    inputs = (IMAGE, PROMPT, STEPS, GUIDANCE, SEED, MODEL)
    models = (
        Model("timbrooks/instruct-pix2pix", tiny="sd-pix2pix", name="InstructPix2Pix", licence="MIT", speed="fast"),
        Model("black-forest-labs/FLUX.1-Kontext-dev", tiny="flux-kontext", name="FLUX.1 Kontext [dev]",
              licence="flux-1-dev-non-commercial-license", commercial=False, speed="slow"),
        Model("Qwen/Qwen-Image-Edit", tiny="sd-pix2pix", name="Qwen-Image-Edit", licence="Apache-2.0", speed="slow"),
        Model(KLEIN, tiny="flux2-klein", name="FLUX.2 [klein] 4B", licence="Apache-2.0", speed="fast"),
    )
    gpu_default = KLEIN  # on a large GPU (pipelines/device.py), unless INSTRUCT_EDIT_MODEL says otherwise
    pipeline_class = None  # the model folder says which pipeline it is
    price = 4
    example = Example("lake", {"prompt": "make it a snowy winter evening"})
    prompt_required = True
    examples = {"prompt": "make it snowy", "steps": 2, "seed": 7}

    def tiny_model(self, model_id: str) -> str:
        return "flux-kontext" if "kontext" in model_id.lower() else super().tiny_model(model_id)

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        family = FAMILIES.get(type(model.pipe).__name__)
        if family is None:
            raise RunFailed(f"{model.model_id} is not an instruction-editing model.")
        image, canvas = self.fit_whole(request, model, limits)
        image = at_least(image, family.min_side)
        shared: dict[str, Any] = {
            "num_inference_steps": request.steps or family.steps,
            family.guidance_argument: family.guidance if request.guidance is None else request.guidance,
            **family.extra,
        }
        width, height = canvas.padded
        if accepts(model.pipe, "height"):  # Flux/Qwen resize unless told the size
            shared.update(width=width, height=height)
        if accepts(model.pipe, "max_area"):
            shared["max_area"] = width * height
        return Prepared(request, seed, {"image": image, "prompt": request.prompt}, shared, {"canvas": canvas})

    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]:
        family = FAMILIES.get(type(model.pipe).__name__)
        if family is not None and family.one_per_call and len(batch) > 1:
            one_at_a_time = super().forward
            return [image for item in batch for image in one_at_a_time(model, [item], on_step)]
        return super().forward(model, batch, on_step)
