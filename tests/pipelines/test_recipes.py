"""Every result carries its recipe, and replaying the recipe on the same picture gives the same pixels.

Run on tiny models through EditService (free runs); the paid replay is in tests/billing/test_paid_runs.py
and the API's in tests/ui/test_api_client.py.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from kernel.errors import UserError
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.inputs import InputContext
from pipelines.models import ModelManager
from pipelines.recipes import FORMAT, to_json
from pipelines.registry import OPERATIONS
from pipelines.replay import pictures_of
from pipelines.service import EditService
from tests import samples
from tests.conftest import make_settings

SIZE = (64, 48)
EXAMPLES = {  # one valid request per operation, seed left out: the recipe must hold the one drawn
    "instruct_edit": {"prompt": "make it snowy", "steps": 2},
    "inpaint": {"prompt": "a red ball", "steps": 2},
    "outpaint": {"prompt": "more sky", "directions": ("right",), "amount": 25, "steps": 2},
    "restyle": {"prompt": "an oil painting", "strength": 0.5, "steps": 2},
    "remove_background": {},
    "upscale": {"scale": 2},
    "compose": {"prompt": "put the pattern from picture 2 on picture 1", "steps": 2,
                "images": (samples.noise(*SIZE, seed=1), samples.noise(40, 40, seed=2))},
    "select": {"points": ((20, 20, 1), (50, 30, 0))},
}


@pytest.fixture(scope="module")
def service(tiny_models, tmp_path_factory) -> EditService:
    settings = make_settings(tmp_path_factory.mktemp("recipes"), tiny_models)
    return EditService(settings, ModelManager(settings), DeviceQueue(4), usage=None)


def mask() -> Image.Image:
    painted = Image.new("L", SIZE, 0)
    painted.paste(255, (20, 12, 44, 36))
    return painted


def request_for(op_id: str) -> EditRequest:
    op = OPERATIONS[op_id]
    return EditRequest(op_id, samples.noise(*SIZE, seed=1), mask=mask() if op.masked else None, **EXAMPLES[op_id])


def context(service: EditService) -> InputContext:
    """Pictures handed over as PIL images: read_upload encodes them, as an upload would arrive."""
    return InputContext(service.settings, lambda image: samples.encode(image))


def pictures(op_id: str) -> list[Image.Image]:
    request = request_for(op_id)
    if pictures_of(OPERATIONS[op_id]) == ["images"]:
        return list(request.images)
    return [request.image, request.mask][: len(pictures_of(OPERATIONS[op_id]))]


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_every_result_carries_a_recipe_and_measurements_and_replays_to_the_same_pixels(service, op_id):
    op = OPERATIONS[op_id]
    first = service.run(request_for(op_id))
    recipe = json.loads(to_json(first.recipe))  # what a visitor downloads, read back
    assert recipe["format"] == FORMAT and recipe["operation"] == op_id and recipe["run_id"] == first.run_id
    model = recipe["model"]
    assert model["id"] == first.model_id and model["revision"] == "tiny" and model["weights"] == "tiny"
    assert model["device"] == "cpu" and model["dtype"] == "float32" and model["pipeline"]
    assert recipe["sizes"]["input"] == list(SIZE) and recipe["sizes"]["output"] == list(first.image.size)
    assert set(recipe["versions"]) >= {"studio", "torch", "diffusers", "transformers"}
    expected = {item.name for item in op.inputs} - {"image", "images", "mask"} | {"model"}
    assert set(recipe["parameters"]) == expected  # every parameter, the defaults that applied included
    if op.uses_seed:
        assert recipe["seed"] == first.seed == recipe["parameters"]["seed"]  # the seed drawn, not "random"
        assert recipe["applied"]["num_inference_steps"] == 2

    assert_measured(op, first)

    again = service.replay(to_json(first.recipe), pictures(op_id), context(service))

    assert again.image.tobytes() == first.image.tobytes()  # byte for byte, on the same device and weights
    assert again.run_id != first.run_id
    assert again.recipe["replay_of"] == {"run_id": first.run_id, "differences": []}


def assert_measured(op, result) -> None:
    """Its time, speed, memory and what changed outside the edit, measured with no network (CLIP_MODEL unset)."""
    measured = result.measurements
    assert measured == result.recipe["measurements"]
    assert measured["wall_s"] == result.duration_ms / 1000 and measured["device_s"] > 0
    assert measured["peak_memory_of"] == "process" and measured["peak_memory_bytes"] > 0
    if op.model_kind == "diffusers":
        assert measured["steps"] >= 1 and measured["denoiser_steps_per_s"] > 0  # PNDM runs one more than asked
    kept = measured["unchanged"]
    if op.compares_to_input:
        assert kept["compared_at"] == list(SIZE) and 0 <= kept["ssim"] <= 1
        assert kept["psnr_db"] is None if kept["identical"] else kept["psnr_db"] > 0
    else:
        assert kept["psnr_db"] is None and kept["ssim"] is None and kept["reason"]
    assert measured["clip_direction"] is None and measured["clip_reason"] == "CLIP_MODEL is not set"


def test_the_defaults_the_pipeline_was_called_with_are_in_the_recipe(service):
    result = service.run(EditRequest("instruct_edit", samples.noise(*SIZE, seed=1), prompt="snow", steps=2, seed=3))
    assert result.recipe["parameters"]["guidance"] is None  # asked: the model's default
    applied = result.recipe["applied"]
    assert applied["guidance_scale"] == 7.5 and applied["image_guidance_scale"] == 1.5  # what that default was
    assert result.recipe["sizes"]["working"] is not None
    assert result.recipe["model"]["scheduler"]


def test_a_replay_says_when_the_device_or_revision_differs(service, made):
    recipe = json.loads(changed(made["restyle"]))
    recipe["model"]["device"] = "cuda"
    recipe["model"]["revision"] = "0123abcd"
    again = service.replay(json.dumps(recipe), pictures("restyle"), context(service))
    differences = again.recipe["replay_of"]["differences"]
    assert len(differences) == 2
    assert any("on a cuda device" in sentence and "used cpu" in sentence for sentence in differences)
    assert any("revision 0123abcd" in sentence and "tiny" in sentence for sentence in differences)


@pytest.fixture(scope="module")
def made(service) -> dict:
    """Recipes of finished runs, by operation, as downloaded."""
    return {op_id: json.loads(to_json(service.run(request_for(op_id)).recipe)) for op_id in ("restyle", "inpaint")}


def changed(recipe: dict, parameters: dict | None = None, **top) -> str:
    """The recipe as JSON text, with some parameters or top-level entries changed."""
    edited = json.loads(json.dumps(recipe))
    edited["parameters"].update(parameters or {})
    edited.update(top)
    return json.dumps(edited)


@pytest.mark.parametrize(("raw", "says"), [
    ("not json {", "not JSON"),
    ("", "not JSON"),
    ("[1, 2]", "not a Studio recipe"),
    ('{"operation": "restyle", "parameters": {}}', "not a Studio recipe"),
])
def test_what_is_not_a_recipe_is_refused_in_a_sentence(service, raw, says):
    with pytest.raises(UserError, match=says):
        service.replay(raw, pictures("restyle"), context(service))


@pytest.mark.parametrize(("parameters", "top", "says"), [
    ({"model": "someone/other-model"}, {}, "model 'someone/other-model' is not offered here"),
    ({}, {"operation": "sharpen"}, "the operation 'sharpen'"),
    ({"steps": 500}, {}, "Steps must be between 1 and 150"),  # the operation's own check
    ({"strength": "lots"}, {}, "must be a number"),  # the operation's own parsing
    ({"prompt": "x" * 5000}, {}, "the limit is 1,000"),
    ({"colour": "red"}, {}, "value 'colour'"),
])
def test_a_recipe_asking_for_what_is_not_offered_is_refused_before_it_runs(service, made, parameters, top, says):
    from pipelines.replay import replay

    with pytest.raises(UserError, match=says):  # refused by the plan at the latest: before any hold (PaidRuns.run)
        replay(service.plan, changed(made["restyle"], parameters, **top), pictures("restyle"), context(service))


def test_a_masked_recipe_needs_its_mask_beside_the_picture(service, made):
    with pytest.raises(UserError, match="needs 2 picture"):
        service.replay(changed(made["inpaint"]), pictures("inpaint")[:1], context(service))


def test_the_page_refuses_a_recipe_for_another_operation_than_the_one_chosen(service, made):
    from pipelines.replay import read_recipe

    with pytest.raises(UserError, match="not inpaint or erase"):
        read_recipe(changed(made["restyle"]), service.settings, operation="inpaint")


# ------------------------------------------------------------------ measurements


def test_what_stays_is_compared_outside_the_brush_and_on_the_original_area():
    from pipelines.measures import unchanged

    request = request_for("inpaint")
    repainted = request.image.copy()
    repainted.paste((0, 0, 0), (20, 12, 44, 36))  # exactly the painted area
    kept = unchanged(OPERATIONS["inpaint"], request, repainted)
    assert kept["area"] == "outside the painted area" and kept["identical"] and kept["psnr_db"] is None
    request = request_for("outpaint")  # extended to the right by 25%: 16 px
    extended = Image.new("RGB", (SIZE[0] + 16, SIZE[1]), (0, 0, 0))
    extended.paste(request.image, (0, 0))
    kept = unchanged(OPERATIONS["outpaint"], request, extended)
    assert kept["area"] == "the original picture's area" and kept["identical"] and kept["compared_at"] == list(SIZE)
    smooth = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    enlarged = smooth.resize((SIZE[0] * 2, SIZE[1] * 2), Image.Resampling.BICUBIC)
    kept = unchanged(OPERATIONS["upscale"], EditRequest("upscale", smooth, scale=2), enlarged)
    assert kept["area"] == "the whole picture, at the input's size" and kept["psnr_db"] > 30 and kept["ssim"] > 0.9
    request = request_for("instruct_edit")
    kept = unchanged(OPERATIONS["instruct_edit"], request, Image.new("RGB", SIZE, (255, 255, 255)))
    assert kept["area"] == "the whole picture" and kept["psnr_db"] < 10 and kept["ssim"] < 0.1


def test_psnr_and_ssim_agree_with_what_they_mean():
    import numpy as np

    from pipelines.measures import SSIM_C1, SSIM_C2, luminance, psnr, ssim

    rng = np.random.default_rng(0)
    smooth = np.asarray(Image.linear_gradient("L").resize((50, 40)).convert("RGB"), dtype=np.float64)
    assert psnr(smooth, smooth) == float("inf") and ssim(luminance(smooth), luminance(smooth)) == pytest.approx(1)
    noisy = [np.clip(smooth + rng.normal(0, sigma, smooth.shape), 0, 255) for sigma in (2, 10, 40)]
    assert 27 < psnr(smooth, noisy[1]) < 29  # sigma 10: 20 log10(255 / 10) = 28.1 dB
    scores = [ssim(luminance(smooth), luminance(picture)) for picture in noisy]
    assert 1 > scores[0] > scores[1] > scores[2] > 0  # more noise, less alike

    a, b = luminance(smooth)[10:30, 10:30], luminance(noisy[1])[10:30, 10:30]  # against windows taken one by one
    centre = (slice(3, 17), slice(3, 17))  # where a 7x7 window fits without the edge
    by_hand = []
    for y in range(3, 17):
        for x in range(3, 17):
            wa, wb = a[y - 3:y + 4, x - 3:x + 4], b[y - 3:y + 4, x - 3:x + 4]
            cov = (wa * wb).mean() - wa.mean() * wb.mean()
            by_hand.append((2 * wa.mean() * wb.mean() + SSIM_C1) * (2 * cov + SSIM_C2)
                           / ((wa.mean() ** 2 + wb.mean() ** 2 + SSIM_C1) * (wa.var() + wb.var() + SSIM_C2)))
    where = np.zeros(a.shape, bool)
    where[centre] = True
    assert ssim(a, b, where) == pytest.approx(np.mean(by_hand))

    changed = smooth.copy()
    changed[:, 25:] = 0
    left = np.zeros((40, 50), bool)
    left[:, :20] = True  # away from the change by more than half a window
    assert psnr(smooth, changed, left) == float("inf") and ssim(luminance(smooth), luminance(changed), left) == 1


def test_with_clip_model_set_instruction_edits_get_a_clip_direction(tiny_models, tmp_path):
    settings = make_settings(tmp_path, tiny_models, clip_model="openai/clip-vit-base-patch32")
    clipped = EditService(settings, ModelManager(settings), DeviceQueue(1), usage=None)
    measured = clipped.run(request_for("instruct_edit")).measurements
    assert -1 <= measured["clip_direction"] <= 1 and measured["clip_reason"] is None
    assert clipped.run(request_for("upscale")).measurements["clip_reason"] == "no instruction to compare with"


def test_a_large_picture_is_compared_at_one_megapixel_and_the_brush_still_counts():
    """After every run, so bounded: a 12 MP inpaint is compared at about 1 MP, the mask scaled with it."""
    from pipelines.measures import COMPARE_MAX_PIXELS, unchanged

    photo = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    painted = Image.new("L", photo.size, 0)
    painted.paste(255, (1000, 1000, 2000, 2000))
    repainted = photo.copy()
    repainted.paste((0, 0, 0), (1000, 1000, 2000, 2000))  # only the painted area changed
    kept = unchanged(OPERATIONS["inpaint"], EditRequest("inpaint", photo, mask=painted), repainted)
    width, height = kept["compared_at"]
    assert width * height <= COMPARE_MAX_PIXELS and abs(width / height - 4 / 3) < 0.01
    assert kept["psnr_db"] is None or kept["psnr_db"] > 40  # nothing outside the brush changed (edges scaled)
