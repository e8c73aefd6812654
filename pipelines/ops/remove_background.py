"""Remove the background: a matting or segmentation model decides what is foreground; the rest turns transparent.

The default, BiRefNet (MIT), is a matting model with its own loader kind ("matting", pipelines/matting.py);
RMBG-1.4 (non-commercial) and other image-segmentation models go through transformers' pipeline.

Given a mask (a selection), the selected subject is kept: the model's alpha only inside the selection
grown by a few pixels (so the matte's soft edge survives), everything else transparent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image, ImageChops

from kernel.errors import RunFailed
from pipelines.base import Model, Operation, Prepared, StepFn
from pipelines.examples import Example
from pipelines.geometry import grow
from pipelines.images import flatten
from pipelines.inputs import IMAGE, MASK, MODEL

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

BACKGROUND_LABELS = {"background", "bg", "_background_", "__background__"}


def foreground_alpha(result: Any, size: tuple[int, int]) -> Image.Image:
    """An "L" alpha mask from what image-segmentation pipelines return.

    Matting models (RMBG) give one picture or mask; semantic models give one mask per label,
    and everything not labelled background is kept.
    """
    if isinstance(result, Image.Image):
        alpha = result.getchannel("A") if result.mode == "RGBA" else result.convert("L")
    elif isinstance(result, list) and result and all("mask" in r for r in result):
        backgrounds = [r["mask"].convert("L") for r in result if str(r.get("label", "")).lower() in BACKGROUND_LABELS]
        if backgrounds:
            alpha = backgrounds[0]
            for extra in backgrounds[1:]:
                alpha = ImageChops.lighter(alpha, extra)
            alpha = ImageChops.invert(alpha)
        else:
            alpha = Image.new("L", size, 0)
            for r in result:
                alpha = ImageChops.lighter(alpha, r["mask"].convert("L"))
    elif isinstance(result, list) and not result:
        alpha = Image.new("L", size, 0)  # nothing found: nothing is foreground
    else:
        raise RunFailed("The background model returned something the studio does not understand.")
    return alpha if alpha.size == size else alpha.resize(size, Image.Resampling.BILINEAR)


class RemoveBackground(Operation):
    id = "remove_background"
    texts = {
        "en": {"label": "Remove background",
               "help": "Keep the subject and make everything else transparent (PNG with alpha). "
                       "Select a subject to keep only that one.",
               "example": "Cut out the cup",
               "not_compared": "A cut-out keeps the subject and removes the rest: no area is meant to stay the same."},
        "sv": {"label": "Ta bort bakgrunden",
               "help": "Behåll motivet och gör allt annat genomskinligt (PNG med alfakanal). "
                       "Markera ett motiv för att bara behålla det.",
               "example": "Frilägg koppen",
               "not_compared": "Ett frilagt motiv behåller motivet och tar bort resten: inget område ska förbli "
                               "detsamma."},
    }
    inputs = (IMAGE, MODEL, MASK)  # the mask last: positional API calls keep working
    models = (
        Model("ZhengPeng7/BiRefNet", tiny="birefnet", name="BiRefNet", licence="MIT", kind="matting"),
        Model("briaai/RMBG-1.4", tiny="segformer", name="RMBG-1.4", licence="bria-rmbg-1.4", commercial=False),
    )
    model_kind = "segmentation"  # what a configured model it does not know is loaded as
    price = 1
    example = Example("cup")
    uses_seed = False
    output_mode = "RGBA"
    compares_to_input = False
    masked = True  # optional: without a selection the model decides what the subject is

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        MASK.region(request.mask, request.image.size)

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        return Prepared(request, seed, {"image": flatten(request.image)}, shared={})

    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]:
        images = [item.model_input["image"] for item in batch]
        if model.spec.kind == "matting":
            from pipelines.matting import alpha_masks

            masks = alpha_masks(model.pipe, images)
            on_step(1, 1)
            return masks
        results = model.pipe(images)
        on_step(1, 1)
        return [foreground_alpha(result, image.size) for result, image in zip(results, images, strict=True)]

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        original = prepared.request.image
        result = original.convert("RGBA")
        region = MASK.region(prepared.request.mask, original.size)
        if region is not None:  # the selected subject: the matte inside the selection, a little room for its edge
            output = ImageChops.darker(output.convert("L"), grow(region, max(2, min(original.size) // 100)))
        alpha = output if original.mode != "RGBA" else ImageChops.darker(output, original.getchannel("A"))
        result.putalpha(alpha)
        return result
