"""Refining a selection's edge (hair, fur) with ViTMatte: a hard mask in, a soft one out.

SAM's masks are hard-edged. ViTMatte (transformers' VitMatteForImageMatting) takes the picture and a
trimap - sure foreground (255), sure background (0), unknown (128) - and predicts the alpha in the
unknown band. The band here is a few pixels either side of the mask's edge, made with the
linear-time grow/shrink of pipelines/geometry.py. Only the region around the selection is refined,
scaled to at most the working size, so a large picture costs no more than a small one.

The image processor is not used (its fast variant needs torchvision): the inputs are made here as it
makes them - RGB scaled to 0-1 and normalised with mean = std = 0.5, the trimap scaled to 0-1 as a
fourth channel, padded to a multiple of 32.

The model loads on first use (`LazyMatte`), not with SAM: most selections never ask for it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from pipelines.geometry import grow, shrink

VITMATTE = "hustvl/vitmatte-small-composition-1k"
PAD_TO = 32
BAND_FRACTION = 0.01  # the unknown band: this share of the picture's longer side on each side of the edge
MIN_BAND = 2


class LazyMatte:
    """ViTMatte, loaded the first time a refine asks for it (under the loaders' BUILDING lock)."""

    def __init__(self, source: str, device: str, prepare: Callable[[], None] | None = None) -> None:
        self.source = source
        self.device = device
        self.prepare = prepare  # builds the tiny stand-in's folder first, on demo weights
        self._model: Any = None
        self._lock = threading.Lock()

    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                from transformers import VitMatteForImageMatting

                from pipelines.loaders import BUILDING

                with BUILDING:
                    if self.prepare is not None:
                        self.prepare()
                    self._model = VitMatteForImageMatting.from_pretrained(self.source).to(self.device).eval()
            return self._model


def band_width(size: tuple[int, int]) -> int:
    """How many pixels either side of the edge are left for the matting model to decide."""
    return max(MIN_BAND, round(BAND_FRACTION * max(size)))


def trimap(mask: Image.Image, band: int) -> Image.Image:
    """255 where surely selected, 0 where surely not, 128 in the band around the edge."""
    sure = np.asarray(shrink(mask, band)) >= 128
    maybe = np.asarray(grow(mask, band)) >= 128
    return Image.fromarray(np.where(sure, 255, np.where(maybe, 128, 0)).astype(np.uint8), "L")


def refine(matte: Any, picture: Image.Image, mask: Image.Image, working_pixels: int) -> Image.Image:
    """A soft "L" mask the picture's size: the hard mask with its edge band decided by the matting model."""
    import torch

    box = mask.getbbox()
    if box is None:
        return mask  # nothing selected: no edge
    band = band_width(picture.size)
    left, top = max(0, box[0] - 2 * band), max(0, box[1] - 2 * band)
    right, bottom = min(picture.width, box[2] + 2 * band), min(picture.height, box[3] + 2 * band)
    crop = (left, top, right, bottom)
    width, height = right - left, bottom - top
    scale = min(1.0, math.sqrt(working_pixels / (width * height)))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    rgb = picture.convert("RGB").crop(crop).resize(size, Image.Resampling.BILINEAR)
    small = mask.crop(crop).resize(size, Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    tri = np.asarray(trimap(small, max(1, round(band * scale))))

    parameter = next(matte.parameters())
    pixels = (np.asarray(rgb, dtype=np.float32) / 255.0 - 0.5) / 0.5
    stacked = np.concatenate([pixels, (tri.astype(np.float32) / 255.0)[..., None]], axis=2)
    padded = np.pad(stacked, [(0, -size[1] % PAD_TO), (0, -size[0] % PAD_TO), (0, 0)])
    batch = torch.from_numpy(padded).permute(2, 0, 1).unsqueeze(0).to(parameter.device, parameter.dtype)
    with torch.inference_mode():
        alpha = matte(pixel_values=batch).alphas[0, 0, : size[1], : size[0]].float().clamp(0, 1).cpu().numpy()
    alpha = np.where(tri == 255, 1.0, np.where(tri == 0, 0.0, alpha))
    soft = Image.fromarray((alpha * 255).round().astype(np.uint8), "L").resize((width, height),
                                                                               Image.Resampling.BILINEAR)
    out = Image.new("L", picture.size, 0)
    out.paste(soft, (left, top))
    return out
