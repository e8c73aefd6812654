"""Compose on the tiny FLUX.2 [klein]: 1 to 4 pictures of mixed sizes and modes give a result with the first
picture's size and framing; too many pictures, or more than the chosen model takes, is a sentence before any run."""

from __future__ import annotations

import pytest
from PIL import Image

from kernel.errors import UserError
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.geometry import within_aspect
from pipelines.models import ModelManager
from pipelines.service import EditService
from tests import samples
from tests.conftest import make_settings

ONE_PICTURE_MODEL = "studio/one-picture-editor"  # not a model the studio knows: it takes one picture
QWEN = "Qwen/Qwen-Image-Edit-2511"


@pytest.fixture(scope="module")
def service(tmp_path_factory, tiny_models) -> EditService:
    settings = make_settings(tmp_path_factory.mktemp("compose"), tiny_models,
                             compose_models=f"black-forest-labs/FLUX.2-klein-4B,{QWEN},{ONE_PICTURE_MODEL}")
    return EditService(settings, ModelManager(settings), DeviceQueue(2), None)


def compose(*pictures: Image.Image, **values) -> EditRequest:
    return EditRequest("compose", pictures[0], prompt="put the pattern from picture 2 on picture 1",
                       images=pictures, steps=1, seed=3, **values)


def transparent(width: int, height: int) -> Image.Image:
    picture = samples.noise(width, height, seed=9).convert("RGBA")
    picture.putalpha(Image.new("L", (width, height), 128))
    return picture


@pytest.mark.parametrize("count", [1, 2, 4])
def test_one_to_four_pictures_of_mixed_sizes_and_modes_give_the_first_pictures_size(service, count):
    others = [transparent(30, 90), samples.noise(200, 20, seed=4).convert("L").convert("RGB"),
              samples.noise(16, 16, seed=5)]
    result = service.run(compose(samples.noise(72, 40, seed=1), *others[: count - 1]))
    assert result.image.size == (72, 40) and result.image.mode == "RGB" and result.weights == "tiny"


def test_a_transparent_first_picture_keeps_its_transparency(service):
    result = service.run(compose(transparent(48, 64), samples.noise(64, 64)))
    assert result.image.size == (48, 64) and result.image.mode == "RGBA"


def test_the_same_seed_gives_the_same_result(service):
    pictures = (samples.noise(64, 48, seed=1), samples.noise(40, 40, seed=2))
    assert service.run(compose(*pictures)).image.tobytes() == service.run(compose(*pictures)).image.tobytes()


def test_more_than_four_pictures_is_a_sentence(service):
    with pytest.raises(UserError, match=r"^At most 4 pictures can be combined; you gave 5\.$"):
        service.plan(compose(*[samples.noise(32, 32, seed=n) for n in range(5)]))


def test_a_model_that_takes_one_picture_is_refused_for_two(service):
    with pytest.raises(UserError, match=rf"^{ONE_PICTURE_MODEL} takes one picture only; you gave 2\."):
        service.plan(compose(samples.noise(32, 32), samples.noise(32, 32), model=ONE_PICTURE_MODEL))
    service.plan(compose(samples.noise(32, 32), model=ONE_PICTURE_MODEL))  # one picture it takes


def test_qwen_image_edit_2511_combines_up_to_three_pictures_and_refuses_four(service):
    with pytest.raises(UserError, match=r"^Qwen-Image-Edit-2511 takes at most 3 pictures; you gave 4\.$"):
        service.plan(compose(*[samples.noise(32, 32, seed=n) for n in range(4)], model=QWEN))
    result = service.run(compose(samples.noise(72, 40, seed=1), samples.noise(40, 40, seed=2), model=QWEN))
    assert result.image.size == (72, 40) and result.recipe["model"]["pipeline"] == "QwenImageEditPlusPipeline"


def test_an_empty_instruction_is_a_sentence(service):
    request = compose(samples.noise(32, 32), samples.noise(32, 32))
    request.values["prompt"] = "  "
    with pytest.raises(UserError, match="Please say how to combine the pictures first"):
        service.plan(request)


def test_a_very_long_picture_goes_in_a_grey_band_not_cut():
    long = samples.noise(400, 20)
    banded = within_aspect(long, 8)
    assert banded.size == (400, 50) and banded.crop((0, 15, 400, 35)).tobytes() == long.tobytes()
    assert within_aspect(samples.noise(80, 20), 8).size == (80, 20)
