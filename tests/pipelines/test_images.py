"""Every picture entering the app passes decode_image: bad files get sentences, odd ones get fixed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kernel.errors import UserError
from pipelines.images import bytes_from_data_url, decode_image, encode_png, mask_from_image, to_data_url
from tests import samples

LIMIT = 40_000_000


def decode(data: bytes, min_side: int = 16) -> Image.Image:
    return decode_image(data, max_pixels=LIMIT, min_side=min_side)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (samples.truncated_png(), "damaged"),
        (samples.TEXT, "not an image"),
        (samples.SVG, "SVG"),
        (samples.HTML, "HTML page"),
        (samples.bomb_png(), "megapixels"),
        (samples.animated_gif(), "GIF"),
        (samples.png(1, 1), "at least 16 pixels"),
        (samples.png(8000, 8), "at least 16 pixels"),
    ],
    ids=["zero-byte", "truncated-png", "text-named-png", "svg", "html", "decompression-bomb", "animated-gif",
         "1x1", "8000x8-strip"],
)
def test_bad_files_get_a_clear_message(data, message):
    with pytest.raises(UserError, match=message):
        decode(data)


def test_the_bomb_is_refused_before_decoding():
    # 1.6 gigapixels would need ~5 GB decoded; the header check must stop it first
    with pytest.raises(UserError, match="limit is 40 megapixels"):
        decode_image(samples.bomb_png(), max_pixels=LIMIT)
    with pytest.raises(UserError, match="9000×9000"):  # under Pillow's own bomb limit: our check, with sizes
        decode_image(samples.bomb_png(9000, 9000), max_pixels=LIMIT)


def test_pixel_limit_counts_width_times_height():
    with pytest.raises(UserError, match=r"limit is 0\.001 megapixels"):
        decode_image(samples.png(64, 48), max_pixels=1000)


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour():
    image = decode(samples.cmyk_jpeg())
    assert image.mode == "RGB"
    r, g, b = image.getpixel((20, 15))
    assert r > 200 and g < 60 and b < 60  # red ink prints red


def test_16_bit_grey_png_keeps_its_tones():
    image = decode(samples.png16_grey())
    assert image.mode == "RGB"
    left, right = image.getpixel((5, 5))[0], image.getpixel((35, 5))[0]
    assert 120 <= left <= 135 and right == 255  # mid grey stays mid grey, white stays white


def test_16_bit_rgb_png_is_read():
    array = (np.random.default_rng(1).integers(0, 65536, (20, 30, 3))).astype(">u2")
    raw = io.BytesIO()
    import zlib

    rows = b"".join(b"\x00" + array[y].tobytes() for y in range(20))
    import struct

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30, 20, 16, 2, 0, 0, 0)))
    raw.write(chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    image = decode(raw.getvalue())
    assert image.mode == "RGB" and image.size == (30, 20)
    assert abs(int(image.getpixel((3, 4))[0]) - int(array[4, 3, 0]) // 256) <= 1


def test_palette_png_with_transparency_keeps_its_alpha():
    image = decode(samples.palette_png_with_transparency())
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 0  # the transparent palette entry
    assert image.getpixel((30, 5)) == (255, 0, 0, 255)


def test_exif_rotated_jpeg_comes_out_upright_without_exif():
    data, upright = samples.exif_rotated_jpeg()
    image = decode(data)
    assert image.size == upright.size == (60, 40)
    r, g, _ = image.getpixel((5, 20))
    assert r > 200 and g < 60  # the red band is on the left, as the photographer saw it
    assert not image.info and not image.getexif()


def test_animated_webp_gives_its_first_frame():
    data, first = samples.animated_webp()
    image = decode(data)
    assert image.size == first.size
    assert image.getpixel((5, 5)) == (255, 0, 0)


def test_metadata_never_survives_a_round_trip():
    image = decode(samples.with_metadata_png())
    out = Image.open(io.BytesIO(encode_png(image)))
    assert "Author" not in out.info and "parameters" not in out.info
    assert b"Jane Doe" not in encode_png(image)


def test_grey_and_grey_alpha_become_rgb_and_rgba():
    grey = decode(samples.encode(Image.new("L", (20, 20), 128)))
    assert grey.mode == "RGB" and grey.getpixel((0, 0)) == (128, 128, 128)
    la = Image.new("LA", (20, 20), (128, 255))
    la.putpixel((0, 0), (128, 0))
    assert decode(samples.encode(la)).mode == "RGBA"


def test_alpha_that_hides_nothing_is_dropped():
    assert decode(samples.encode(samples.noise(20, 20, mode="RGB").convert("RGBA"))).mode == "RGB"


def test_data_urls_round_trip_and_refuse_other_schemes():
    image = samples.noise(20, 20)
    data = bytes_from_data_url(to_data_url(image), max_bytes=10**6)
    assert np.array_equal(np.asarray(decode(data)), np.asarray(image))
    with pytest.raises(UserError):
        bytes_from_data_url("data:text/html;base64,PGgxPg==", max_bytes=10**6)
    with pytest.raises(UserError):
        bytes_from_data_url("data:image/png;base64,***", max_bytes=10**6)


def test_masks_read_alpha_or_brightness():
    painted = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    painted.putpixel((3, 3), (255, 0, 0, 255))
    assert mask_from_image(painted).getpixel((3, 3)) == 255
    assert mask_from_image(painted).getpixel((0, 0)) == 0
    white_on_black = Image.new("L", (10, 10), 0)
    white_on_black.putpixel((1, 1), 255)
    assert mask_from_image(white_on_black).getbbox() == (1, 1, 2, 2)


def test_simultaneous_decodes_stay_within_the_pixel_budget(monkeypatch):
    """Many big uploads at once decode a budget's worth at a time, so their copies never pile up in memory."""
    import threading

    from pipelines import images

    budget = images.PixelBudget(2 * 400 * 300)
    monkeypatch.setattr(images, "DECODING", budget)
    decoding, most = [0], [0]
    lock = threading.Lock()
    real_load = Image.Image.load

    def counted_load(self):
        with lock:
            decoding[0] += 1
            most[0] = max(most[0], decoding[0])
        try:
            threading.Event().wait(0.05)  # long enough for the others to arrive
            return real_load(self)
        finally:
            with lock:
                decoding[0] -= 1

    monkeypatch.setattr(Image.Image, "load", counted_load)
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "teal").save(buffer, format="PNG")
    data = buffer.getvalue()
    results = []
    threads = [threading.Thread(target=lambda: results.append(decode_image(data, max_pixels=10**8)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r.size == (400, 300) for r in results)
    assert most[0] == 2  # two pictures' worth at a time, never more


def test_a_picture_larger_than_the_whole_budget_still_decodes(monkeypatch):
    from pipelines import images

    monkeypatch.setattr(images, "DECODING", images.PixelBudget(100))
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format="PNG")
    assert decode_image(buffer.getvalue(), max_pixels=10**6).size == (40, 30)
