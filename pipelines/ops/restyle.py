"""Restyle: image-to-image with a prompt and a strength (how far to move from the original)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kernel.errors import UserError
from pipelines.base import Prepared
from pipelines.diffusion import DiffusionOperation

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

DEFAULT_STRENGTH = 0.6


class Restyle(DiffusionOperation):
    id = "restyle"
    label = "Restyle"
    help = "Redraw the whole picture in a style you describe; strength sets how far it may move."
    inputs = ("image", "prompt", "strength", "steps", "guidance", "seed")
    prompt_label = "Style description"
    prompt_required = True
    prompt_missing = "Please describe the style first, e.g. “watercolour painting”."
    pipeline_class = "AutoPipelineForImage2Image"
    default_steps = 30

    def model_choices(self, settings: Settings) -> list[str]:
        return [settings.restyle_model]

    def tiny_model(self, model_id: str) -> str:
        return "img2img"

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        if request.strength is not None and not 0.05 <= request.strength <= 1.0:
            raise UserError("Strength must be between 0.05 and 1.0.")

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        strength = request.strength or DEFAULT_STRENGTH
        shared = self.sampling(request)
        # img2img runs int(steps * strength) steps and crashes at zero
        shared["num_inference_steps"] = max(shared["num_inference_steps"], math.ceil(1 / strength))
        shared["strength"] = strength
        image, canvas = self.fit_whole(request, model, limits)
        return Prepared(request, seed, {"image": image, "prompt": request.prompt}, shared, {"canvas": canvas})
