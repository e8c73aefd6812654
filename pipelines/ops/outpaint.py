"""Outpaint: extend the canvas to the left, right, top or bottom and fill the new area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from kernel.errors import UserError
from pipelines.base import Prepared
from pipelines.diffusion import DiffusionOperation
from pipelines.examples import Example
from pipelines.geometry import (
    DIRECTIONS,
    composite,
    extend,
    feather,
    from_model,
    plan_extension,
    to_model,
)
from pipelines.images import flatten
from pipelines.inputs import GUIDANCE, IMAGE, MODEL, PROMPT, SEED, STEPS, Choices, Number
from pipelines.ops.inpaint import KLEIN_INPAINT, SD_INPAINT, fill_prompts

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

SEAM = 8  # pixels of the original repainted along each new edge, so no seam shows

SIDES = Choices(
    name="directions", options=DIRECTIONS, default=("left", "right"), required=True,
    texts={
        "en": {"label": "Extend", **{f"option.{side}": side for side in DIRECTIONS},
               "unknown": "Unknown direction {value}; use left, right, up or down.",
               "missing": "Choose at least one side to extend (left, right, up or down)."},
        "sv": {"label": "Utöka åt", "option.left": "vänster", "option.right": "höger", "option.up": "uppåt",
               "option.down": "nedåt", "unknown": "Okänd riktning {value}; använd vänster, höger, uppåt eller nedåt.",
               "missing": "Välj minst en sida att utöka (vänster, höger, uppåt eller nedåt)."},
    },
)
AMOUNT = Number(
    name="amount", minimum=1, maximum=100, slider_step=1, default=25,
    texts={
        "en": {"label": "By (% of the side)", "range": "The extension amount must be between 1 and 100 percent."},
        "sv": {"label": "Med (% av sidan)", "range": "Utökningen måste vara mellan 1 och 100 procent."},
    },
)


class Outpaint(DiffusionOperation):
    id = "outpaint"
    texts = {
        "en": {
            "label": "Extend the picture",
            "help": "Add space on the sides you choose; the model paints what could be there.",
            "example": "A wider view",
            "prompt": "What the new area shows (optional)",
            "too_large": "The extended picture would be {width}×{height}, over the {limit} megapixel limit. "
                         "Extend by less.",
        },
        "sv": {
            "label": "Utöka bilden",
            "help": "Lägg till yta på de sidor du väljer; modellen målar det som skulle kunna finnas där.",
            "example": "En bredare vy",
            "prompt": "Vad det nya området visar (valfritt)",
            "too_large": "Den utökade bilden skulle bli {width}×{height}, över gränsen på {limit} megapixel. "
                         "Utöka mindre.",
        },
    }
    inputs = (IMAGE, PROMPT, SIDES, AMOUNT, STEPS, GUIDANCE, SEED, MODEL)
    models = (
        SD_INPAINT,  # the same weights as inpaint's, loaded once
        KLEIN_INPAINT,
    )
    pipeline_class = "AutoPipelineForInpainting"
    gpu_default = KLEIN_INPAINT.id  # on a large GPU (pipelines/device.py), unless OUTPAINT_MODEL says otherwise
    price = 4
    example = Example("lake", {"directions": ["left", "right"], "amount": 30})
    examples = {"directions": ["left", "up"], "amount": 25, "steps": 2, "seed": 7}

    def output_size(self, request: EditRequest) -> tuple[int, int]:
        ext = plan_extension(request.image.size, list(request.directions), request.amount)
        return request.image.width + ext.left + ext.right, request.image.height + ext.top + ext.bottom

    def placement(self, request: EditRequest) -> tuple[float, float, float, float]:
        ext = plan_extension(request.image.size, list(request.directions), request.amount)
        width, height = self.output_size(request)
        return ext.left / width, ext.top / height, request.image.width / width, request.image.height / height

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        width, height = self.output_size(request)
        if width * height > settings.max_input_pixels:
            raise UserError(self.text("too_large", width=width, height=height,
                                      limit=f"{settings.max_input_pixels / 1e6:g}"))

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        ext = plan_extension(request.image.size, list(request.directions), request.amount)
        extended, mask = extend(flatten(request.image), ext, overlap=SEAM)
        canvas = self.canvas(extended.size, model, limits)
        width, height = canvas.padded
        model_input = {
            "image": to_model(extended, canvas),
            "mask_image": to_model(mask, canvas, is_mask=True),
            **self.call_arguments(model.pipe, fill_prompts(request.prompt)),  # empty: more of the surrounding scene
        }
        shared = {**self.sampling(request, model.pipe), "width": width, "height": height, "strength": 1.0}
        restore = {"canvas": canvas, "extended": extended, "blend": feather(mask, SEAM // 2, outward=False)}
        return Prepared(request, seed, model_input, shared, restore)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        generated = from_model(output, prepared.restore["canvas"])
        return composite(prepared.restore["extended"], generated, prepared.restore["blend"], (0, 0))
