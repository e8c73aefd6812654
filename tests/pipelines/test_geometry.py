"""Fitting pictures to a model and back: same size, same framing, no shift."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from kernel.errors import UserError
from pipelines.geometry import (
    composite,
    extend,
    feather,
    fit_canvas,
    from_model,
    grow,
    mask_region,
    plan_extension,
    to_model,
)
from tests import samples


@pytest.mark.parametrize("size", [(64, 48), (1000, 750), (8000, 16), (17, 333), (4000, 3000)])
def test_canvas_is_a_multiple_within_the_budget(size):
    canvas = fit_canvas(size, max_pixels=1024 * 1024, multiple=8)
    assert all(side % 8 == 0 and side >= 16 for side in canvas.padded)
    assert canvas.scaled[0] * canvas.scaled[1] <= 1024 * 1024 * 1.01
    ratio_in, ratio_out = size[0] / size[1], canvas.scaled[0] / canvas.scaled[1]
    assert ratio_out == pytest.approx(ratio_in, rel=0.05)  # scaled, never distorted


def test_round_trip_without_scaling_is_pixel_exact():
    image = samples.noise(61, 45)
    canvas = fit_canvas(image.size, max_pixels=10**6, multiple=8)
    assert canvas.padded == (64, 48) and canvas.scaled == (61, 45)
    assert np.array_equal(np.asarray(from_model(to_model(image, canvas), canvas)), np.asarray(image))


def test_padding_goes_right_and_bottom_only_so_nothing_shifts():
    image = Image.new("RGB", (10, 10), (0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0))
    canvas = fit_canvas(image.size, max_pixels=10**6, multiple=8)
    padded = to_model(image, canvas)
    assert padded.getpixel((0, 0)) == (255, 0, 0)  # the top-left corner stays at the top-left
    mask = to_model(Image.new("L", (10, 10), 255), canvas, is_mask=True)
    assert mask.getpixel((15, 15)) == 0  # padding is never marked for editing


def test_large_pictures_come_back_at_their_own_size():
    image = samples.noise(3000, 2000)
    canvas = fit_canvas(image.size, max_pixels=512 * 512, multiple=8)
    assert canvas.scaled[0] * canvas.scaled[1] <= 512 * 512
    assert from_model(to_model(image, canvas), canvas).size == (3000, 2000)


def test_small_areas_are_enlarged_for_the_model():
    canvas = fit_canvas((60, 40), max_pixels=1024 * 1024, multiple=8, min_pixels=256 * 256)
    assert canvas.scaled[0] * canvas.scaled[1] >= 200 * 130


def test_mask_region_grows_around_the_brush_and_stays_inside():
    mask = Image.new("L", (200, 100), 0)
    mask.paste(255, (90, 40, 110, 60))
    left, top, right, bottom = mask_region(mask)
    assert left < 90 and top < 40 and right > 110 and bottom > 60
    assert left >= 0 and top >= 0 and right <= 200 and bottom <= 100
    with pytest.raises(UserError, match="Paint over"):
        mask_region(Image.new("L", (10, 10), 0))


def test_composite_keeps_everything_outside_the_mask():
    original = samples.noise(50, 50, seed=1)
    generated = Image.new("RGB", (20, 20), (0, 255, 0))
    blend = Image.new("L", (20, 20), 0)
    blend.paste(255, (5, 5, 15, 15))
    result = composite(original, generated, blend, (10, 10))
    assert result.getpixel((20, 20)) == (0, 255, 0)
    untouched = np.ones((50, 50), bool)
    untouched[10:30, 10:30] = False
    assert np.array_equal(np.asarray(result)[untouched], np.asarray(original)[untouched])


def test_feather_covers_the_whole_brush():
    mask = Image.new("L", (40, 40), 0)
    mask.paste(255, (10, 10, 30, 30))
    soft = np.asarray(feather(mask, 4))
    assert soft[10:30, 10:30].min() == 255  # outward: all of the brush is replaced
    inward = np.asarray(feather(mask, 4, outward=False))
    outside = np.ones((40, 40), bool)
    outside[10:30, 10:30] = False
    assert inward[outside].max() == 0  # inward: nothing outside the mask is touched


def test_extension_plan_and_canvas():
    ext = plan_extension((100, 50), ["left", "down"], 20)
    assert (ext.left, ext.right, ext.top, ext.bottom) == (20, 0, 0, 10)
    image = samples.noise(100, 50)
    canvas, mask = extend(image, ext, overlap=4)
    assert canvas.size == (120, 60)
    assert np.array_equal(np.asarray(canvas)[:50, 20:], np.asarray(image))  # the original, in place
    assert mask.getpixel((5, 5)) == 255 and mask.getpixel((21, 5)) == 255  # new area and the seam
    assert mask.getpixel((60, 20)) == 0  # the inside of the original is kept


@pytest.mark.parametrize(("directions", "percent", "message"), [
    ([], 20, "at least one side"), (["north"], 20, "Unknown direction"), (["left"], 0, "between 1 and 100"),
])
def test_bad_extension_requests(directions, percent, message):
    with pytest.raises(UserError, match=message):
        plan_extension((100, 50), directions, percent)


@pytest.mark.parametrize(("size", "radius"), [((37, 23), 2), ((64, 50), 4), ((200, 100), 15), ((13, 7), 7)])
def test_growing_and_feathering_match_pillows_rank_filters(size, radius):
    """The linear-time filters give exactly what PIL's MaxFilter/MinFilter (pixels × k² time) gave."""
    rng = np.random.default_rng(radius)
    mask = Image.fromarray(((rng.random(size[::-1]) > 0.9) * 255).astype(np.uint8), "L")
    reference = mask.filter(ImageFilter.MaxFilter(2 * radius + 1))
    assert np.array_equal(np.asarray(grow(mask, radius)), np.asarray(reference))
    for outward, rank in ((True, ImageFilter.MaxFilter), (False, ImageFilter.MinFilter)):
        expected = mask.filter(rank(2 * radius + 1)).filter(ImageFilter.GaussianBlur(radius / 3))
        assert np.array_equal(np.asarray(feather(mask, radius, outward=outward)), np.asarray(expected))


def test_a_fully_painted_24_megapixel_photo_prepares_in_two_seconds():
    """Finding 1 of the hostile-input review: a painted phone photo stalled the server for minutes."""
    import time

    from pipelines.base import EditRequest, Limits
    from pipelines.registry import OPERATIONS

    photo = Image.new("RGB", (6000, 4000), (90, 120, 150))
    painted = Image.new("L", photo.size, 255)

    class Pipe:  # what prepare asks of a diffusers pipeline: its scale factor and what its call takes
        vae_scale_factor = 8

        def __call__(self, prompt=None, image=None, mask_image=None, negative_prompt=None, **kwargs):
            raise AssertionError("prepare only looks")

    model = type("Loaded", (), {"pipe": Pipe()})()
    started = time.perf_counter()
    prepared = OPERATIONS["inpaint"].prepare(EditRequest("inpaint", photo, "", mask=painted), model, 1,
                                             Limits(1024 * 1024))
    assert time.perf_counter() - started < 2.0
    model_mask = prepared.model_input["mask_image"].crop((0, 0, *prepared.restore["canvas"].scaled))
    assert model_mask.getextrema() == (255, 255)  # all of it is repainted (the padding around it is not)
