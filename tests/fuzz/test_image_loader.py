"""Property tests for decode_image, the one door every uploaded picture passes.

Whatever the bytes, the loader answers with a small upright RGB/RGBA picture within the pixel limit,
or with a UserError whose message is a sentence. Any other exception would reach the visitor as a 500.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from kernel.errors import UserError
from pipelines.images import decode_image
from tests import samples
from tests.fuzz import EXAMPLES

LIMIT = 64 * 64  # small, so that header changes cross it often and nothing big is ever decoded
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    return samples.encode(samples.noise(40, 24), "JPEG", exif=exif.tobytes())


def _icc_jpeg() -> bytes:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    return samples.encode(samples.noise(24, 24), "JPEG", icc_profile=icc)


def _seeds() -> list[bytes]:
    rgba = samples.noise(20, 20, seed=1, mode="RGBA")
    palette = samples.noise(16, 16, seed=2).convert("P")
    return [
        samples.png(24, 16),
        samples.encode(rgba, "PNG"),
        samples.encode(palette, "PNG", transparency=0),
        samples.encode(Image.new("I;16", (16, 16), 40000), "PNG"),
        samples.encode(samples.noise(32, 24), "JPEG", quality=80),
        samples.encode(samples.noise(16, 16).convert("CMYK"), "JPEG"),
        _exif_rotated_jpeg(),
        _icc_jpeg(),
        samples.encode(samples.noise(24, 16), "WEBP", quality=60),
        samples.encode(rgba, "WEBP", lossless=True),
        samples.animated_webp()[0],
    ]


SEEDS = _seeds()


def check(data: bytes) -> None:
    """The property: a clean picture within the limit, or a UserError that reads as a sentence."""
    try:
        image = decode_image(data, max_pixels=LIMIT)
    except UserError as refusal:
        message = str(refusal)
        assert message[:1].isupper() and message.rstrip().endswith("."), message
        return
    assert image.mode in ("RGB", "RGBA")
    assert image.width * image.height <= LIMIT
    assert not image.info  # no metadata survives


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid picture with bit flips, overwritten or inserted bytes, and perhaps cut short."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[where:where + 4] = draw(st.binary(min_size=1, max_size=4))
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif len(data) > 1:
            del data[where:where + draw(st.integers(1, 64))]
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@st.composite
def png_with_odd_header(draw: st.DrawFn) -> bytes:
    """A PNG whose IHDR (with a correct CRC) claims any size, depth and colour type, over real or junk data."""
    width, height = draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        width, height = draw(st.integers(0, 80)), draw(st.integers(0, 80))
    depth = draw(st.sampled_from([1, 2, 4, 8, 16, 0, 3, 255]))
    colour = draw(st.sampled_from([0, 2, 3, 4, 6, 1, 5, 7]))
    interlace = draw(st.sampled_from([0, 1, 2]))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    raw = draw(st.binary(max_size=512)) if draw(st.booleans()) else b"\x00" * draw(st.integers(0, 4096))
    chunks = _chunk(b"IHDR", header)
    if colour == 3 and draw(st.booleans()):
        chunks += _chunk(b"PLTE", bytes(range(48)))
    chunks += _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_with_a_sentence(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBPVP8 "]),
       st.binary(max_size=1024))
def test_a_right_signature_over_junk_is_refused_with_a_sentence(signature: bytes, rest: bytes) -> None:
    check(signature + rest)


@FUZZ
@given(mutated())
def test_damaged_pictures_decode_or_are_refused_cleanly(data: bytes) -> None:
    check(data)


@FUZZ
@given(png_with_odd_header())
def test_png_headers_never_get_past_the_pixel_limit(data: bytes) -> None:
    check(data)


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_the_undamaged_seeds_decode(index: int) -> None:
    """The mutations start from pictures the loader accepts, so they probe real parsing paths."""
    image = decode_image(SEEDS[index], max_pixels=LIMIT)
    assert image.mode in ("RGB", "RGBA")
