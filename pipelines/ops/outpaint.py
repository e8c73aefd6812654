"""Outpaint: extend the canvas to the left, right, top or bottom and fill the new area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from kernel.errors import UserError
from pipelines.base import Prepared
from pipelines.diffusion import DiffusionOperation, size_multiple
from pipelines.geometry import composite, extend, feather, fit_canvas, from_model, plan_extension, to_model
from pipelines.images import flatten
from pipelines.ops.inpaint import fill_prompts

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

DEFAULT_AMOUNT = 25.0  # percent of the side
SEAM = 8  # pixels of the original repainted along each new edge, so no seam shows


class Outpaint(DiffusionOperation):
    id = "outpaint"
    label = "Extend the picture"
    help = "Add space on the sides you choose; the model paints what could be there."
    inputs = ("image", "prompt", "directions", "amount", "steps", "guidance", "seed")
    prompt_label = "What the new area shows (optional)"
    pipeline_class = "AutoPipelineForInpainting"

    def model_choices(self, settings: Settings) -> list[str]:
        return [settings.outpaint_model]

    def tiny_model(self, model_id: str) -> str:
        return "inpaint"

    def output_size(self, request: EditRequest) -> tuple[int, int]:
        ext = plan_extension(request.image.size, list(request.directions), request.amount or DEFAULT_AMOUNT)
        return request.image.width + ext.left + ext.right, request.image.height + ext.top + ext.bottom

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        width, height = self.output_size(request)
        if width * height > settings.max_input_pixels:
            raise UserError(
                f"The extended picture would be {width}×{height}, over the "
                f"{settings.max_input_pixels / 1e6:g} megapixel limit. Extend by less."
            )

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        ext = plan_extension(request.image.size, list(request.directions), request.amount or DEFAULT_AMOUNT)
        extended, mask = extend(flatten(request.image), ext, overlap=SEAM)
        canvas = fit_canvas(extended.size, max_pixels=limits.working_pixels, multiple=size_multiple(model.pipe))
        width, height = canvas.padded
        model_input = {
            "image": to_model(extended, canvas),
            "mask_image": to_model(mask, canvas, is_mask=True),
            **fill_prompts(request.prompt),  # empty: more of the surrounding scene
        }
        shared = {**self.sampling(request), "width": width, "height": height, "strength": 1.0}
        restore = {"canvas": canvas, "extended": extended, "blend": feather(mask, SEAM // 2, outward=False)}
        return Prepared(request, seed, model_input, shared, restore)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        generated = from_model(output, prepared.restore["canvas"])
        return composite(prepared.restore["extended"], generated, prepared.restore["blend"], (0, 0))
