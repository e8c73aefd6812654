"""Examples for the page's "Try an example" buttons: pictures drawn by code (no files, no licences to
track), and what an operation declares to show itself at its best (Operation.example).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from pipelines.images import to_data_url


@dataclass(frozen=True)
class Example:
    picture: str  # a key of PICTURES
    values: dict[str, Any] = field(default_factory=dict)  # inputs by name (English prompts: models read English)
    mask_box: tuple[float, float, float, float] | None = None  # a painted rectangle, as fractions of the picture


@cache
def picture(name: str) -> Image.Image:
    return PICTURES[name]()


def mask_data_url(example: Example) -> str | None:
    """The example's painted area as the canvas would send it: opaque where painted."""
    if example.mask_box is None:
        return None
    image = picture(example.picture)
    mask = Image.new("RGBA", image.size, (0, 0, 0, 0))
    x0, y0, x1, y1 = example.mask_box
    box = (x0 * image.width, y0 * image.height, x1 * image.width, y1 * image.height)
    ImageDraw.Draw(mask).rectangle(box, fill=(255, 48, 48, 255))
    return to_data_url(mask)


def _lake() -> Image.Image:
    """Evening light over a lake: sky, sun, hills, a house, trees, a red boat."""
    width, height = 768, 512
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # sky fading into water
        t = y / height
        sky = (int(90 + 140 * t), int(140 + 70 * t), int(220 - 40 * t))
        water = (int(40 + 30 * t), int(90 + 40 * t), int(140 + 20 * t))
        draw.line([(0, y), (width, y)], fill=sky if y < height * 0.58 else water)
    draw.ellipse((520, 70, 610, 160), fill=(255, 214, 120))
    hills = [(0, 300), *[(x, 290 - 60 * math.sin(x / 120) - 30 * math.sin(x / 47)) for x in range(0, width + 8, 8)],
             (width, 300)]
    draw.polygon([*hills, (width, 300), (0, 300)], fill=(70, 120, 80))
    draw.rectangle((0, 296, width, 300), fill=(60, 105, 70))
    draw.rectangle((170, 230, 250, 296), fill=(200, 80, 60))  # a house
    draw.polygon([(160, 232), (210, 190), (260, 232)], fill=(110, 50, 40))
    draw.rectangle((200, 262, 220, 296), fill=(80, 50, 30))
    for x in (60, 95, 320, 355, 390):  # trees
        draw.rectangle((x - 4, 260, x + 4, 298), fill=(90, 60, 40))
        draw.ellipse((x - 22, 205, x + 22, 268), fill=(40, 100, 55))
    draw.polygon([(520, 380), (640, 380), (620, 410), (540, 410)], fill=(200, 40, 40))  # the boat
    draw.line([(580, 380), (580, 320)], fill=(240, 240, 240), width=3)
    draw.polygon([(582, 322), (582, 375), (625, 375)], fill=(245, 245, 245))
    return image.filter(ImageFilter.SMOOTH)


def _cup() -> Image.Image:
    """A cup of coffee on a plain backdrop: something to cut out."""
    width, height = 512, 512
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = int(225 - 50 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade - 8, shade - 20))
    draw.ellipse((120, 390, 400, 440), fill=(150, 140, 130))  # shadow
    draw.rounded_rectangle((150, 200, 350, 410), radius=40, fill=(40, 110, 160))  # the cup
    draw.ellipse((150, 180, 350, 230), fill=(30, 90, 135))
    draw.ellipse((165, 188, 335, 224), fill=(90, 55, 30))  # coffee
    draw.arc((320, 240, 410, 340), start=-90, end=90, fill=(40, 110, 160), width=18)  # handle
    return image.filter(ImageFilter.SMOOTH)


def _cup_small() -> Image.Image:
    return _cup().resize((192, 192), Image.Resampling.LANCZOS)


PICTURES = {"lake": _lake, "cup": _cup, "cup_small": _cup_small}
