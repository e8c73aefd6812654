"""Inpaint: repaint a brushed area from a prompt; with no prompt, erase what is there.

Only the area around the mask is sent to the model, at up to the working resolution, and the
result is blended back into the untouched original: pixels outside the brush stay exactly as
they were, however large the photo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from kernel.errors import UserError
from pipelines.base import Model, Prepared
from pipelines.diffusion import DiffusionOperation
from pipelines.examples import Example
from pipelines.geometry import (
    PAINT_FIRST,
    composite,
    feather,
    from_model,
    mask_region,
    mask_to_model,
    to_model,
)
from pipelines.images import flatten, mask_from_image, mask_is_empty
from pipelines.inputs import GUIDANCE, IMAGE, MASK, MODEL, PROMPT, SEED, STEPS

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

# An empty prompt means "remove it": ask for more of the surroundings, and for no new objects.
ERASE_PROMPT = "empty background, seamless continuation of the surrounding scene"
ERASE_NEGATIVE = "object, person, animal, text, watermark, logo"

# FLUX.2 [klein] 4B: the default on a large GPU; its inpainting pipeline runs on the same folder (and, when
# instruct_edit has loaded it, on the same weights, via from_pipe).
SD_INPAINT = Model("stable-diffusion-v1-5/stable-diffusion-inpainting", tiny="sd-inpaint",
                   name="Stable Diffusion 1.5 Inpainting", licence="CreativeML-OpenRAIL-M", speed="fast")
KLEIN_INPAINT = Model("black-forest-labs/FLUX.2-klein-4B", tiny="flux2-klein", name="FLUX.2 [klein] 4B",
                      licence="Apache-2.0", speed="fast", pipeline_class="Flux2KleinInpaintPipeline")


def fill_prompts(prompt: str) -> dict[str, str]:
    if prompt.strip():
        return {"prompt": prompt, "negative_prompt": ""}
    return {"prompt": ERASE_PROMPT, "negative_prompt": ERASE_NEGATIVE}


class Inpaint(DiffusionOperation):
    id = "inpaint"
    texts = {
        "en": {
            "label": "Inpaint or erase",
            "help": "Paint over an area, then say what should be there, or leave the text empty to erase it.",
            "example": "Erase the boat",
            "prompt": "What to put there (empty: erase)",
            "mask_empty": "The mask is empty. Paint over the part of the picture you want to change.",
            "mask_size": "The mask is {mask} but the picture is {picture}; they must be the same size.",
        },
        "sv": {
            "label": "Måla om eller ta bort",
            "help": "Måla över ett område och säg vad som ska finnas där, eller lämna texten tom för att ta bort det.",
            "example": "Ta bort båten",
            "prompt": "Vad som ska finnas där (tomt: ta bort)",
            "mask_empty": "Masken är tom. Måla över den del av bilden som du vill ändra.",
            "mask_size": "Masken är {mask} men bilden är {picture}; de måste vara lika stora.",
        },
    }
    inputs = (IMAGE, MASK, PROMPT, STEPS, GUIDANCE, SEED, MODEL)
    models = (
        SD_INPAINT,
        KLEIN_INPAINT,
    )
    pipeline_class = "AutoPipelineForInpainting"
    gpu_default = KLEIN_INPAINT.id  # on a large GPU (pipelines/device.py), unless INPAINT_MODEL says otherwise
    price = 3
    example = Example("lake", {"prompt": ""}, mask_box=(0.66, 0.56, 0.86, 0.86))  # erase the red boat
    masked = True
    examples = {"prompt": "a red ball", "steps": 2, "seed": 7}

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        if request.mask is None:
            raise UserError(PAINT_FIRST)
        if request.mask.size != request.image.size:
            mask, picture = (f"{w}×{h}" for w, h in (request.mask.size, request.image.size))
            raise UserError(self.text("mask_size", mask=mask, picture=picture))
        if mask_is_empty(mask_from_image(request.mask)):
            raise UserError(self.text("mask_empty"))

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        mask = mask_from_image(request.mask)
        box = mask_region(mask)
        crop = flatten(request.image).crop(box)
        crop_mask = mask.crop(box)
        # small areas are enlarged: models need context
        canvas = self.canvas(crop.size, model, limits, min_pixels=limits.working_pixels // 4)
        edge = max(3, min(crop.size) // 50)
        width, height = canvas.padded
        model_input = {
            "image": to_model(crop, canvas),
            "mask_image": mask_to_model(crop_mask, canvas, grow_by=3 * edge),  # covers the blend
            **self.call_arguments(model.pipe, fill_prompts(request.prompt)),
        }
        shared = {**self.sampling(request, model.pipe), "width": width, "height": height, "strength": 1.0}
        restore = {"canvas": canvas, "box": box, "blend": feather(crop_mask, edge)}
        return Prepared(request, seed, model_input, shared, restore)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        patch = from_model(output, prepared.restore["canvas"])
        left, top, _, _ = prepared.restore["box"]
        return composite(prepared.request.image, patch, prepared.restore["blend"], (left, top))
