"""Restyle: image-to-image with a prompt and a strength (how far to move from the original)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pipelines.base import Model, Prepared
from pipelines.diffusion import DiffusionOperation
from pipelines.examples import Example
from pipelines.inputs import GUIDANCE, IMAGE, PROMPT, SEED, STEPS, Number

if TYPE_CHECKING:
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
            "help": "Redraw the whole picture in a style you describe; strength sets how far it may move.",
            "example": "As a watercolour",
            "prompt": "Style description",
            "prompt_missing": "Please describe the style first, e.g. “watercolour painting”.",
        },
        "sv": {
            "label": "Byt stil",
            "help": "Rita om hela bilden i en stil du beskriver; styrkan avgör hur långt den får gå.",
            "example": "Som akvarell",
            "prompt": "Beskrivning av stilen",
            "prompt_missing": "Beskriv stilen först, t.ex. ”akvarellmålning”.",
        },
    }
    inputs = (IMAGE, PROMPT, STRENGTH, STEPS, GUIDANCE, SEED)
    models = (Model("stable-diffusion-v1-5/stable-diffusion-v1-5", tiny="sd-img2img", name="Stable Diffusion 1.5",
                    licence="CreativeML-OpenRAIL-M", speed="fast"),)
    pipeline_class = "AutoPipelineForImage2Image"
    price = 3
    example = Example("lake", {"prompt": "watercolour painting, soft washes", "strength": 0.6})
    prompt_required = True
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
