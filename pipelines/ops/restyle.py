"""Restyle: image-to-image with a prompt and a strength (how far to move from the original).

Given a mask (a selection or a painted area) only that area takes the new style: the whole picture is
redrawn (the model needs the context) and blended back inside the mask, its fade lying inside, so every
pixel outside the mask stays exactly as it was.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PIL import Image

from pipelines.base import Model, Prepared
from pipelines.diffusion import DiffusionOperation
from pipelines.examples import Example
from pipelines.geometry import composite, feather
from pipelines.inputs import GUIDANCE, IMAGE, MASK, PROMPT, SEED, STEPS, Number

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

STRENGTH = Number(
    name="strength", minimum=0.05, maximum=1.0, slider_step=0.05, default=0.6,
    texts={
        "en": {"label": "Strength", "range": "Strength must be between 0.05 and 1.0."},
        "sv": {"label": "Styrka", "range": "Styrkan måste vara mellan 0,05 och 1,0."},
    },
)


class Restyle(DiffusionOperation):
    id = "restyle"
    texts = {
        "en": {
            "label": "Restyle",
            "help": "Redraw the picture in a style you describe; strength sets how far it may move. "
                    "Select or paint an area to restyle only that.",
            "example": "As a watercolour",
            "prompt": "Style description",
            "prompt_missing": "Please describe the style first, e.g. “watercolour painting”.",
        },
        "sv": {
            "label": "Byt stil",
            "help": "Rita om bilden i en stil du beskriver; styrkan avgör hur långt den får gå. "
                    "Markera eller måla ett område för att bara byta stil där.",
            "example": "Som akvarell",
            "prompt": "Beskrivning av stilen",
            "prompt_missing": "Beskriv stilen först, t.ex. ”akvarellmålning”.",
        },
    }
    inputs = (IMAGE, PROMPT, STRENGTH, STEPS, GUIDANCE, SEED, MASK)  # the mask last: positional API calls keep working
    models = (Model("stable-diffusion-v1-5/stable-diffusion-v1-5", tiny="sd-img2img", name="Stable Diffusion 1.5",
                    licence="CreativeML-OpenRAIL-M", speed="fast"),)
    pipeline_class = "AutoPipelineForImage2Image"
    price = 3
    example = Example("lake", {"prompt": "watercolour painting, soft washes", "strength": 0.6})
    prompt_required = True
    masked = True  # optional: without a mask the whole picture
    default_steps = 30
    examples = {"prompt": "oil painting", "strength": 0.5, "steps": 2, "seed": 7}

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        strength = request.strength
        shared = self.sampling(request)
        # img2img runs int(steps * strength) steps and crashes at zero
        shared["num_inference_steps"] = max(shared["num_inference_steps"], math.ceil(1 / strength))
        shared["strength"] = strength
        image, canvas = self.fit_whole(request, model, limits)
        return Prepared(request, seed, {"image": image, "prompt": request.prompt}, shared, {"canvas": canvas})

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        MASK.region(request.mask, request.image.size)

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        restyled = super().finish(prepared, output)
        original = prepared.request.image
        region = MASK.region(prepared.request.mask, original.size)
        if region is None:
            return restyled
        edge = max(2, min(original.size) // 100)
        return composite(original, restyled, feather(region, edge, outward=False), (0, 0))
