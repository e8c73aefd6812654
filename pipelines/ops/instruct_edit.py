"""Edit with an instruction: InstructPix2Pix by default (FLUX.2 [klein] on a large GPU); FLUX.1 Kontext or
Qwen-Image-Edit-2511 (also with its Lightning LoRA, in 4 or 8 steps) by choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kernel.errors import RunFailed
from pipelines.base import Lora, Model, Prepared
from pipelines.diffusion import DiffusionOperation, accepts
from pipelines.examples import Example
from pipelines.geometry import at_least
from pipelines.inputs import GUIDANCE, IMAGE, MODEL, PROMPT, SEED, STEPS

if TYPE_CHECKING:
    from pipelines.base import EditRequest, Limits
    from pipelines.geometry import Canvas
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
    # Qwen-Image-Edit-2511: 40 steps, true CFG 4.0 with a blank negative prompt (the model card's example).
    # The pipeline takes a list of pictures as references for one edit, and one prompt per call.
    "QwenImageEditPlusPipeline": Family(
        steps=40, guidance=4.0, guidance_argument="true_cfg_scale", extra={"negative_prompt": " "}, one_per_call=True
    ),
}

KLEIN = "black-forest-labs/FLUX.2-klein-4B"
QWEN_EDIT = "Qwen/Qwen-Image-Edit-2511"
# lightx2v's step-distilled LoRAs for it (Apache-2.0). The file names are as published projects download
# them from that repo (not listed here offline: the Hub is out of reach); fp32 twins of the bf16 files exist.
LIGHTNING_REPO = "lightx2v/Qwen-Image-Edit-2511-Lightning"


def lightning(steps: int, pictures: int = 1) -> Model:
    """Qwen-Image-Edit-2511 with its Lightning LoRA fused in: `steps` steps, no classifier-free guidance."""
    return Model(
        f"{QWEN_EDIT}+Lightning-{steps}steps", tiny="qwen-edit-plus", pictures=pictures,
        name=f"Qwen-Image-Edit-2511 Lightning ({steps} steps)", licence="Apache-2.0", speed="medium", base=QWEN_EDIT,
        lora=Lora(LIGHTNING_REPO, f"Qwen-Image-Edit-2511-Lightning-{steps}steps-V1.0-bf16.safetensors",
                  steps=steps, guidance=1.0, scheduler="lightning"),
    )


def call_settings(family: Family, request: EditRequest, model: LoadedModel, canvas: Canvas) -> dict[str, Any]:
    """The call arguments every item of a batch shares: steps and guidance (the visitor's, else a distilled
    LoRA's, else the family's), the family's extras, and the canvas size for pipelines that resize otherwise."""
    lora = model.spec.lora  # a distilled LoRA brings its own steps and guidance
    guidance = request.guidance if request.guidance is not None else lora.guidance if lora else family.guidance
    shared: dict[str, Any] = {
        "num_inference_steps": request.steps or (lora.steps if lora else family.steps),
        family.guidance_argument: guidance,
        **family.extra,
    }
    if family.guidance_argument == "true_cfg_scale" and guidance <= 1:
        shared.pop("negative_prompt", None)  # no true CFG: the pipeline would only warn about it
    width, height = canvas.padded
    if accepts(model.pipe, "height"):  # Flux/Qwen resize unless told the size
        shared.update(width=width, height=height)
    if accepts(model.pipe, "max_area"):
        shared["max_area"] = width * height
    return shared


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
        Model(KLEIN, tiny="flux2-klein", name="FLUX.2 [klein] 4B", licence="Apache-2.0", speed="fast"),
        Model(QWEN_EDIT, tiny="qwen-edit-plus", name="Qwen-Image-Edit-2511", licence="Apache-2.0", speed="slow"),
        lightning(4),
        lightning(8),
    )
    gpu_default = KLEIN  # on a large GPU (pipelines/device.py), unless INSTRUCT_EDIT_MODEL says otherwise
    pipeline_class = None  # the model folder says which pipeline it is
    price = 4
    example = Example("lake", {"prompt": "make it a snowy winter evening"})
    prompt_required = True
    examples = {"prompt": "make it snowy", "steps": 2, "seed": 7}

    def tiny_model(self, model_id: str) -> str:
        """Configured ids it does not list get the stand-in of their family, by name."""
        name = model_id.lower()
        if "kontext" in name:
            return "flux-kontext"
        if "qwen-image-edit" in name:
            return "qwen-edit-plus"
        return super().tiny_model(model_id)

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        family = FAMILIES.get(type(model.pipe).__name__)
        if family is None:
            raise RunFailed(f"{model.model_id} is not an instruction-editing model.")
        image, canvas = self.fit_whole(request, model, limits)
        image = at_least(image, family.min_side)
        shared = call_settings(family, request, model, canvas)
        return Prepared(request, seed, {"image": image, "prompt": request.prompt}, shared, {"canvas": canvas})

    def one_per_call(self, model: LoadedModel) -> bool:
        family = FAMILIES.get(type(model.pipe).__name__)  # klein and Qwen read a list of pictures as one edit's
        return super().one_per_call(model) or (family is not None and family.one_per_call)
