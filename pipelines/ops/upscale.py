"""Upscale x2 or x4 with a Swin2SR super-resolution model, tile by tile so big pictures fit in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from kernel.errors import UserError
from pipelines.base import Model, Operation, Prepared, StepFn
from pipelines.examples import Example
from pipelines.geometry import fit_canvas
from pipelines.inputs import IMAGE, Choice

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

SCALE = Choice(
    name="scale", options=(("×2", 2), ("×4", 4)), default=2, whole=True,
    texts={
        "en": {"label": "Scale", "unknown": "Upscaling works by 2 or by 4."},
        "sv": {"label": "Skala", "unknown": "Förstoringen kan vara 2 eller 4 gånger."},
    },
)
TILE = 256  # input pixels per tile side
OVERLAP = 16  # tiles overlap and are blended, so no seams show
TILES_PER_PASS = 4


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile - overlap))
    return [*starts, length - tile]


def blend_window(height: int, width: int, ramp: int) -> np.ndarray:
    """Weights that fall off towards a tile's edges, so overlapping tiles fade into each other."""
    def axis(n: int) -> np.ndarray:
        edge = np.minimum(np.arange(n) + 1, np.arange(n)[::-1] + 1)
        return np.clip(edge / max(ramp, 1), 1 / (ramp + 1), 1.0)

    return np.outer(axis(height), axis(width))[..., None].astype(np.float32)


class Upscale(Operation):
    id = "upscale"
    texts = {
        "en": {
            "label": "Upscale",
            "help": "Make the picture 2 or 4 times larger with a super-resolution model.",
            "example": "A larger, sharper cup",
            "too_large": "Upscaled x{scale} the picture would be {width}×{height}, over the {limit} megapixel "
                         "limit. Try x2 or a smaller picture.",
        },
        "sv": {
            "label": "Förstora",
            "help": "Gör bilden 2 eller 4 gånger större med en modell för superupplösning.",
            "example": "En större, skarpare kopp",
            "too_large": "Förstorad x{scale} skulle bilden bli {width}×{height}, över gränsen på {limit} megapixel. "
                         "Prova x2 eller en mindre bild.",
        },
    }
    inputs = (IMAGE, SCALE)
    models = (
        Model("caidas/swin2SR-classical-sr-x2-64", tiny="swin2sr-x2", name="Swin2SR ×2", licence="Apache-2.0",
              speed="fast"),
        Model("caidas/swin2SR-classical-sr-x4-64", tiny="swin2sr-x4", name="Swin2SR ×4", licence="Apache-2.0",
              speed="fast"),
    )
    model_kind = "super_resolution"
    price = 2
    example = Example("cup_small", {"scale": 2})
    batchable = False  # one picture's tiles already fill a pass
    uses_seed = False
    examples = {"scale": 2}

    def model_settings(self) -> tuple[str, ...]:
        """One model per factor: UPSCALE_X2_MODEL and UPSCALE_X4_MODEL."""
        return tuple(f"{self.id}_x{scale}_model" for scale in SCALE.values)

    def model_choices(self, settings: Settings) -> list[str]:
        configured = settings.operation_models
        pairs = zip(self.model_settings(), self.models, strict=True)
        return [configured.get(setting) or model.id for setting, model in pairs]

    def default_model(self, settings: Settings, request: EditRequest | None = None) -> str:
        x2, x4 = self.model_choices(settings)
        return x4 if request is not None and request.scale == 4 else x2

    def tiny_model(self, model_id: str) -> str:
        return "swin2sr-x4" if "x4" in model_id.lower() else "swin2sr-x2"

    def output_size(self, request: EditRequest) -> tuple[int, int]:
        return request.image.width * request.scale, request.image.height * request.scale

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        width, height = self.output_size(request)
        if width * height > settings.max_input_pixels:
            raise UserError(self.text("too_large", scale=request.scale, width=width, height=height,
                                      limit=f"{settings.max_input_pixels / 1e6:g}"))

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        image = request.image.convert("RGB")
        if limits.demo and image.width * image.height > limits.working_pixels:  # noise either way: keep demos fast
            image = image.resize(fit_canvas(image.size, max_pixels=limits.working_pixels, multiple=1).scaled,
                                 Image.Resampling.BILINEAR)
        return Prepared(request, seed, {"image": image}, shared={})

    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]:
        return [upscale_tiled(model.pipe, item.model_input["image"], on_step) for item in batch]

    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image:
        original = prepared.request.image
        scale = prepared.request.scale
        target = (original.width * scale, original.height * scale)
        if output.size != target:  # a model trained for another factor
            output = output.resize(target, Image.Resampling.LANCZOS)
        if original.mode == "RGBA":
            output = output.convert("RGBA")
            output.putalpha(original.getchannel("A").resize(target, Image.Resampling.LANCZOS))
        return output


def upscale_tiled(sr: Any, image: Image.Image, on_step: StepFn) -> Image.Image:
    """Run the super-resolution model over overlapping tiles and blend them."""
    import torch

    model, processor = sr.model, sr.processor
    factor = int(model.config.upscale)
    width, height = image.size
    tile_w, tile_h = min(TILE, width), min(TILE, height)
    boxes = [
        (x, y, x + tile_w, y + tile_h)
        for y in tile_starts(height, tile_h, OVERLAP)
        for x in tile_starts(width, tile_w, OVERLAP)
    ]
    canvas = np.zeros((height * factor, width * factor, 3), np.float32)
    weights = np.zeros((height * factor, width * factor, 1), np.float32)
    window = blend_window(tile_h * factor, tile_w * factor, OVERLAP * factor)
    for first in range(0, len(boxes), TILES_PER_PASS):
        chunk = boxes[first : first + TILES_PER_PASS]
        inputs = processor([image.crop(box) for box in chunk], return_tensors="pt")
        pixel_values = inputs["pixel_values"].to(model.device, model.dtype)
        with torch.inference_mode():
            out = model(pixel_values=pixel_values).reconstruction
        out = out[:, :, : tile_h * factor, : tile_w * factor].clamp(0, 1).float().cpu().numpy()
        for (x, y, _, _), tile in zip(chunk, out, strict=True):
            ys, xs = slice(y * factor, (y + tile_h) * factor), slice(x * factor, (x + tile_w) * factor)
            canvas[ys, xs] += tile.transpose(1, 2, 0) * window
            weights[ys, xs] += window
        on_step(min(first + TILES_PER_PASS, len(boxes)), len(boxes))
    pixels = (canvas / np.maximum(weights, 1e-6) * 255.0).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")
