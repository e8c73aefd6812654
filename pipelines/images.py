"""Reading untrusted image bytes safely, and writing results without metadata.

Every picture that enters the app passes `decode_image`: the format is sniffed from the bytes
(not the file name), the pixel count is checked from the header before anything is decoded,
EXIF orientation is applied, colours are brought to 8-bit sRGB, and all metadata is dropped.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from kernel.errors import UserError

ACCEPTED = "PNG, JPEG or WebP"
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
}
_KNOWN_OTHERS = {
    b"GIF87a": "a GIF",
    b"GIF89a": "a GIF",
    b"<svg": "an SVG drawing",
    b"<?xml": "an XML/SVG document",
    b"<!DOCTYPE": "an HTML page",
    b"<html": "an HTML page",
    b"%PDF": "a PDF",
}
_SRGB = ImageCms.createProfile("sRGB")


class PixelBudget:
    """At most `pixels` being decoded at once, across all threads; bigger requests wait their turn.

    Decoding a picture briefly needs a few copies of it, so fifty simultaneous 16 MP uploads would
    need gigabytes at once; with the budget they queue (decoding is CPU-bound, so little is lost).
    A picture larger than the whole budget decodes alone.
    """

    def __init__(self, pixels: int) -> None:
        self.pixels = pixels
        self._used = 0
        self._changed = threading.Condition()

    @contextmanager
    def held(self, pixels: int) -> Iterator[None]:
        need = min(pixels, self.pixels)
        with self._changed:
            self._changed.wait_for(lambda: self._used + need <= self.pixels)
            self._used += need
        try:
            yield
        finally:
            with self._changed:
                self._used -= need
                self._changed.notify_all()


DECODING = PixelBudget(32_000_000)  # two 16 MP pictures at a time


def sniff_format(data: bytes) -> str | None:
    """The image format from the first bytes, or None when it is not one we accept."""
    for signature, name in _SIGNATURES.items():
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe_unaccepted(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    for signature, name in _KNOWN_OTHERS.items():
        if head.startswith(signature.lower()):
            return f"This file is {name}, not a photo. Please upload a {ACCEPTED} image."
    return f"This file is not an image the studio can read. Please upload a {ACCEPTED} image."


def decode_image(data: bytes, *, max_pixels: int, min_side: int = 1) -> Image.Image:
    """Untrusted bytes -> an RGB or RGBA picture with no metadata, upright, 8 bits per channel."""
    if not data:
        raise UserError("The file is empty. Please upload a photo.")
    fmt = sniff_format(data)
    if fmt is None:
        raise UserError(_describe_unaccepted(data))
    limit_mp = max_pixels / 1e6
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(f"The image has too many pixels; the limit is {limit_mp:g} megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UserError(f"The file looks like {fmt} but could not be read. It may be damaged.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise UserError(
            f"The image is {width}×{height} ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {limit_mp:g} megapixels. Please use a smaller image."
        )
    if min(width, height) < min_side:
        raise UserError(
            f"The image is {width}×{height} pixels; each side must be at least {min_side} pixels."
        )
    with DECODING.held(width * height):
        try:
            image.seek(0)  # animated WebP/PNG: the first frame
            image.load()
            image = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError, EOFError):
            raise UserError(f"The {fmt} file is damaged or incomplete. Please upload it again.") from None
        return strip_metadata(to_srgb_8bit(image))


def to_srgb_8bit(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, or RGBA when the picture has real transparency."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grey: keep the top 8 bits (Pillow's own convert would clip at 255)
        array = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((array >> 8).clip(0, 255).astype(np.uint8), "L")
    elif mode == "F":
        array = np.nan_to_num(np.asarray(image, dtype=np.float32))
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        image = Image.fromarray((array * scale).clip(0, 255).astype(np.uint8), "L")
    elif mode in ("P", "PA", "LA") or "transparency" in image.info:
        image = image.convert("RGBA")

    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        image = _apply_icc(image, icc)
    if image.mode == "RGBA":
        if image.getchannel("A").getextrema()[0] == 255:
            image = image.convert("RGB")  # an alpha channel that hides nothing
        return image
    return image.convert("RGB")


def _apply_icc(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded colour profile to sRGB, so dropping the profile keeps the look."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the numbers as they are
    return converted or image


def strip_metadata(image: Image.Image) -> Image.Image:
    """A fresh image with the same pixels and nothing else (no EXIF, XMP, ICC, text chunks)."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    strip_metadata(image).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def to_data_url(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode("ascii")


def bytes_from_data_url(url: str, *, max_bytes: int) -> bytes:
    """The bytes inside a `data:image/...;base64,` URL, refusing anything else."""
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:image/") or not header.endswith(";base64"):
        raise UserError("The image must be sent as a file or as a data:image/...;base64 URL.")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise UserError(f"The image is larger than {max_bytes // 1_000_000} MB.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("The image data is not valid base64.") from None


def thumbnail(image: Image.Image, size: int = 256) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    return copy


def flatten(image: Image.Image, background: str = "white") -> Image.Image:
    """RGB for models that know no transparency: transparent areas become the background colour."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    canvas = Image.new("RGBA", image.size, background)
    return Image.alpha_composite(canvas, image).convert("RGB")


def mask_from_image(mask: Image.Image) -> Image.Image:
    """A painted mask (opaque or white = change here) -> a binary "L" mask."""
    if mask.mode in ("RGBA", "LA", "PA") or (mask.mode == "P" and "transparency" in mask.info):
        alpha = mask.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:  # transparency carries the painting
            return alpha.point(lambda v: 255 if v > 127 else 0)
    return mask.convert("L").point(lambda v: 255 if v > 127 else 0)


def mask_is_empty(mask: Image.Image) -> bool:
    return mask.getextrema()[1] == 0
