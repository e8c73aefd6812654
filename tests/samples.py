"""Pictures for tests, good and bad, made in memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def noise(width: int = 64, height: int = 48, seed: int = 0, mode: str = "RGB") -> Image.Image:
    channels = {"RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)
    return Image.fromarray(pixels, mode)


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    return encode(noise(width, height, seed))


def truncated_png() -> bytes:
    data = png(200, 150)
    return data[: len(data) // 2]


def bomb_png(width: int = 40000, height: int = 40000) -> bytes:
    """A valid PNG header that claims a huge picture, with almost no data behind it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
TEXT = b"this is not a picture, whatever its name says\n"


def animated_gif() -> bytes:
    frames = [Image.new("P", (32, 32), i * 40) for i in range(3)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def animated_webp() -> tuple[bytes, Image.Image]:
    """Two frames: red first, blue second. Returns the file and the first frame."""
    first, second = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    return encode(first, "WEBP", save_all=True, append_images=[second], lossless=True), first


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG", quality=95)  # pure red ink


def png16_grey() -> bytes:
    array = np.full((30, 40), 65535 // 2, dtype=np.uint16)
    array[:, 20:] = 65535
    return encode(Image.fromarray(array, "I;16"))


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 20, 30))
    return encode(image, transparency=0)


def exif_rotated_jpeg() -> tuple[bytes, Image.Image]:
    """A landscape picture stored as portrait with EXIF Orientation=6 (rotate 90° clockwise to view)."""
    upright = Image.new("RGB", (60, 40), (255, 255, 255))
    upright.paste((255, 0, 0), (0, 0, 20, 40))  # red band on the left of the upright picture
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera held sideways writes
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretCam"  # Make: must not survive
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes()), upright


def with_metadata_png() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("parameters", "secret prompt")
    return encode(noise(32, 32), pnginfo=info)


def api_picture(op, path: str) -> dict:
    """The keyword argument that gives `op`'s API endpoint a photo: `image=` a file, or `images=` a list (compose)."""
    from gradio_client import handle_file

    first = op.inputs[0].name
    return {first: [handle_file(path)] if first == "images" else handle_file(path)}
