"""Changing a selection by hand: invert it, grow it or shrink it by a number of the picture's pixels.

Grow and shrink are linear in the pixels whatever the distance (geometry.grow); shrinking is growing
what is not selected, so a selection that touches the picture's edge stays at the edge.
"""

from __future__ import annotations

from PIL import Image, ImageChops

from pipelines.geometry import grow

MAX_STEP = 256  # pixels of the picture in one grow or shrink (the page says so when asked for more)


def inverted(mask: Image.Image) -> Image.Image:
    return ImageChops.invert(mask.convert("L"))


def grown(mask: Image.Image, by: int) -> Image.Image:
    """`by` > 0 grows the selection by that many pixels in every direction, `by` < 0 shrinks it."""
    if by < 0:
        return inverted(grow(inverted(mask), -by))
    return grow(mask.convert("L"), by)
