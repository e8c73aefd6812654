"""Fitting pictures to what a model needs, and putting results back without shift or zoom.

A model wants sides that are multiples of its latent stride and a bounded pixel count. We
scale down (never distort), pad on the right and bottom with the edge pixels, run, crop the
padding away and scale back: the result has the input's exact size and framing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from kernel.errors import UserError

DIRECTIONS = ("left", "right", "up", "down")
PAINT_FIRST = "Paint over the part of the picture you want to change first."


@dataclass(frozen=True)
class Canvas:
    original: tuple[int, int]  # (width, height) of the picture given to the model step
    scaled: tuple[int, int]  # after scaling to the working size
    padded: tuple[int, int]  # after padding to the model's multiple


def fit_canvas(size: tuple[int, int], *, max_pixels: int, multiple: int, min_pixels: int = 0) -> Canvas:
    """Scale to at most `max_pixels` (up to `min_pixels` if smaller, at most 4x), pad to `multiple`."""
    width, height = size
    pixels = width * height
    scale = 1.0
    if pixels > max_pixels:
        scale = math.sqrt(max_pixels / pixels)
    elif min_pixels and pixels < min_pixels:
        scale = min(4.0, math.sqrt(min_pixels / pixels))
    scaled = (max(1, round(width * scale)), max(1, round(height * scale)))
    padded = tuple(max(multiple * 2, math.ceil(side / multiple) * multiple) for side in scaled)
    return Canvas(original=size, scaled=scaled, padded=padded)  # type: ignore[arg-type]


def to_model(image: Image.Image, canvas: Canvas, *, is_mask: bool = False) -> Image.Image:
    """Scale and pad a picture (or its mask) onto the model's canvas."""
    resample = Image.Resampling.NEAREST if is_mask else Image.Resampling.LANCZOS
    if image.size != canvas.scaled:
        image = image.resize(canvas.scaled, resample)
    pad_w = canvas.padded[0] - canvas.scaled[0]
    pad_h = canvas.padded[1] - canvas.scaled[1]
    if not pad_w and not pad_h:
        return image
    array = np.asarray(image)
    widths = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    # a mask's padding is never edited; a picture's padding repeats its edge
    padded = np.pad(array, widths, mode="constant" if is_mask else "edge")
    return Image.fromarray(padded, image.mode)


def from_model(image: Image.Image, canvas: Canvas) -> Image.Image:
    """Crop the padding away and scale back to the original size."""
    if image.size != canvas.padded:  # some pipelines round sizes themselves
        image = image.resize(canvas.padded, Image.Resampling.LANCZOS)
    image = image.crop((0, 0, *canvas.scaled))
    if image.size != canvas.original:
        image = image.resize(canvas.original, Image.Resampling.LANCZOS)
    return image


def mask_region(mask: Image.Image, *, margin: float = 0.5, min_margin: int = 32) -> tuple[int, int, int, int]:
    """The painted area's bounding box, grown by `margin` of its size so the model sees context."""
    box = mask.getbbox()
    if box is None:
        raise UserError(PAINT_FIRST)
    left, top, right, bottom = box
    grow_x = max(min_margin, int((right - left) * margin))
    grow_y = max(min_margin, int((bottom - top) * margin))
    width, height = mask.size
    return (max(0, left - grow_x), max(0, top - grow_y), min(width, right + grow_x), min(height, bottom + grow_y))


def feather(mask: Image.Image, radius: int, *, outward: bool = True) -> Image.Image:
    """Soften the mask's edge over `radius` pixels on each side of a shifted edge.

    outward=True: the fade lies outside the mask, so every masked pixel is fully replaced.
    outward=False: the fade lies inside it, so every unmasked pixel stays exactly as it was.
    """
    if radius <= 0:
        return mask
    size = 2 * radius + 1
    mask = mask.filter(ImageFilter.MaxFilter(size) if outward else ImageFilter.MinFilter(size))
    return mask.filter(ImageFilter.GaussianBlur(radius / 3))  # three sigmas: the fade ends at `radius`


def grow(mask: Image.Image, radius: int) -> Image.Image:
    return mask.filter(ImageFilter.MaxFilter(2 * radius + 1)) if radius > 0 else mask


def composite(original: Image.Image, generated: Image.Image, mask: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Paste `generated` onto `original` at `box`, only where `mask` (same size as generated) says."""
    result = original.copy()
    patch = generated.convert(original.mode)
    result.paste(patch, box, mask)
    return result


@dataclass(frozen=True)
class Extension:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def any(self) -> bool:
        return bool(self.left or self.top or self.right or self.bottom)


def plan_extension(size: tuple[int, int], directions: list[str], percent: float) -> Extension:
    """How many pixels to add on each side: `percent` of the width (left/right) or height (up/down)."""
    unknown = [d for d in directions if d not in DIRECTIONS]
    if unknown:
        raise UserError(f"Unknown direction {unknown[0]!r}; use left, right, up or down.")
    if not directions:
        raise UserError("Choose at least one side to extend (left, right, up or down).")
    if not 1 <= percent <= 100:
        raise UserError("The extension amount must be between 1 and 100 percent.")
    width, height = size
    dx, dy = max(1, round(width * percent / 100)), max(1, round(height * percent / 100))
    return Extension(
        left=dx if "left" in directions else 0,
        right=dx if "right" in directions else 0,
        top=dy if "up" in directions else 0,
        bottom=dy if "down" in directions else 0,
    )


def extend(image: Image.Image, ext: Extension, *, overlap: int) -> tuple[Image.Image, Image.Image]:
    """The enlarged canvas (new area pre-filled with edge pixels) and the mask of what to paint.

    The mask reaches `overlap` pixels into the original so the seam is repainted too.
    """
    array = np.asarray(image)
    widths = [(ext.top, ext.bottom), (ext.left, ext.right)] + [(0, 0)] * (array.ndim - 2)
    canvas = Image.fromarray(np.pad(array, widths, mode="edge"), image.mode)
    mask = np.full((canvas.height, canvas.width), 255, dtype=np.uint8)
    width, height = image.size
    keep_left = ext.left + (overlap if ext.left else 0)
    keep_top = ext.top + (overlap if ext.top else 0)
    keep_right = ext.left + width - (overlap if ext.right else 0)
    keep_bottom = ext.top + height - (overlap if ext.bottom else 0)
    mask[keep_top:keep_bottom, keep_left:keep_right] = 0
    return canvas, Image.fromarray(mask, "L")
