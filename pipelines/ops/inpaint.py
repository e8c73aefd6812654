"""Inpaint: repaint a brushed area from a prompt; with no prompt, erase what is there.

Only the area around the mask is sent to the model, at up to the working resolution, and the
result is blended back into the untouched original: pixels outside the brush stay exactly as
they were, however large the photo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from kernel.errors import UserError
from pipelines.base import Prepared
from pipelines.diffusion import DiffusionOperation, size_multiple
from pipelines.geometry import composite, feather, fit_canvas, from_model, grow, mask_region, to_model
from pipelines.images import flatten, mask_from_image, mask_is_empty

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

# An empty prompt means "remove it": ask for more of the surroundings, and for no new objects.
ERASE_PROMPT = "empty background, seamless continuation of the surrounding scene"
ERASE_NEGATIVE = "object, person, animal, text, watermark, logo"


def fill_prompts(prompt: str) -> dict[str, str]:
    if prompt.strip():
        return {"prompt": prompt, "negative_prompt": ""}
    return {"prompt": ERASE_PROMPT, "negative_prompt": ERASE_NEGATIVE}


class Inpaint(DiffusionOperation):
    id = "inpaint"
    label = "Inpaint or erase"
    help = "Paint over an area, then say what should be there, or leave the text empty to erase it."
    inputs = ("image", "mask", "prompt", "steps", "guidance", "seed")
    prompt_label = "What to put there (empty: erase)"
    pipeline_class = "AutoPipelineForInpainting"

    def model_choices(self, settings: Settings) -> list[str]:
        return [settings.inpaint_model]

    def tiny_model(self, model_id: str) -> str:
        return "inpaint"

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        if request.mask is None:
            raise UserError("Paint over the part of the picture you want to change first.")
        if request.mask.size != request.image.size:
            mw, mh = request.mask.size
            iw, ih = request.image.size
            raise UserError(f"The mask is {mw}×{mh} but the picture is {iw}×{ih}; they must be the same size.")
        if mask_is_empty(mask_from_image(request.mask)):
            raise UserError("The mask is empty. Paint over the part of the picture you want to change.")

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        mask = mask_from_image(request.mask)
        box = mask_region(mask)
        crop = flatten(request.image).crop(box)
        crop_mask = mask.crop(box)
        canvas = fit_canvas(
            crop.size,
            max_pixels=limits.working_pixels,
            multiple=size_multiple(model.pipe),
            min_pixels=limits.working_pixels // 4,  # small areas are enlarged: models need context
        )
        edge = max(3, min(crop.size) // 50)
        width, height = canvas.padded
        model_input = {
            "image": to_model(crop, canvas),
            "mask_image": to_model(grow(crop_mask, 3 * edge), canvas, is_mask=True),  # covers the blend
            **fill_prompts(request.prompt),
        }
        shared = {**self.sampling(request), "width": width, "height": height, "strength": 1.0}
        restore = {"canvas": canvas, "box": box, "blend": feather(crop_mask, edge)}
        return Prepared(request, seed, model_input, shared, restore)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        patch = from_model(output, prepared.restore["canvas"])
        left, top, _, _ = prepared.restore["box"]
        return composite(prepared.request.image, patch, prepared.restore["blend"], (left, top))
