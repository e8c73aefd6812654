"""Model profiles, one copy per model, sharing weights, the memory budget, failed loads."""

from __future__ import annotations

import pytest

from kernel.errors import RunFailed
from pipelines import tiny
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from tests.conftest import make_settings

INSTRUCT, RESTYLE, INPAINT = OPERATIONS["instruct_edit"], OPERATIONS["restyle"], OPERATIONS["inpaint"]


def manager(tmp_path, tiny_models, **overrides) -> ModelManager:
    return ModelManager(make_settings(tmp_path, tiny_models, **overrides))


def test_tiny_profile_uses_demo_weights(tmp_path, tiny_models):
    spec = manager(tmp_path, tiny_models).spec(INSTRUCT, "timbrooks/instruct-pix2pix")
    assert spec.weights == "tiny" and spec.tiny_name == "sd-pix2pix"
    assert spec.source == str(tiny_models / "sd-pix2pix")


def test_auto_profile_falls_back_to_tiny_when_the_hub_is_unreachable(tmp_path, tiny_models):
    models = manager(tmp_path, tiny_models, model_profile="auto")
    assert models.spec(INSTRUCT, "timbrooks/instruct-pix2pix").weights == "tiny"


def test_a_local_folder_is_a_model_id_with_real_weights(tmp_path, tiny_models):
    folder = tiny.ensure("sd-pix2pix", tiny_models)  # any saved pipeline folder will do
    for profile in ("auto", "real"):
        models = manager(tmp_path, tiny_models, model_profile=profile, instruct_edit_model=str(folder))
        spec = models.spec(INSTRUCT, str(folder))
        assert spec.weights == "real" and spec.source == str(folder)
        with models.use(spec) as loaded:
            assert type(loaded.pipe).__name__ == "StableDiffusionInstructPix2PixPipeline"


def test_real_profile_with_unreachable_weights_fails_cleanly(tmp_path, tiny_models):
    models = manager(tmp_path, tiny_models, model_profile="real")
    spec = models.spec(INSTRUCT, "timbrooks/instruct-pix2pix")
    with pytest.raises(RunFailed, match="could not be loaded"), models.use(spec):
        pass
    assert models.describe(spec)["error"]
    # the other operations are not affected
    with models.use(manager(tmp_path, tiny_models).spec(RESTYLE, "x")) as loaded:
        assert loaded.pipe is not None


def test_one_copy_per_model(tmp_path, tiny_models):
    models = manager(tmp_path, tiny_models)
    spec = models.spec(INPAINT, "stable-diffusion-v1-5/stable-diffusion-inpainting")
    outpaint = models.spec(OPERATIONS["outpaint"], "stable-diffusion-v1-5/stable-diffusion-inpainting")
    with models.use(spec) as a, models.use(outpaint) as b:
        assert a is b


def test_a_second_pipeline_on_the_same_weights_shares_them(tmp_path, tiny_models):
    folder = str(tiny.ensure("sd-img2img", tiny_models))
    models = manager(tmp_path, tiny_models, model_profile="real", restyle_model=folder, inpaint_model=folder)
    with models.use(models.spec(RESTYLE, folder)) as img2img, models.use(models.spec(INPAINT, folder)) as inpaint:
        assert type(inpaint.pipe).__name__ == "StableDiffusionInpaintPipeline"
        assert inpaint.pipe.unet is img2img.pipe.unet  # the same weights, in memory once
        assert inpaint.nbytes == 0 and inpaint.base is img2img


def test_least_recently_used_models_are_unloaded_over_the_budget(tmp_path, tiny_models):
    models = manager(tmp_path, tiny_models, model_memory_budget_gb=0.012)  # room for one 9 MB tiny SD model
    first = models.spec(INSTRUCT, "timbrooks/instruct-pix2pix")
    second = models.spec(RESTYLE, "stable-diffusion-v1-5/stable-diffusion-v1-5")
    with models.use(first):
        pass
    with models.use(second):
        assert not models.is_loaded(first) and models.is_loaded(second)
    assert models.loaded_bytes() <= models.budget_bytes()


def test_a_model_in_use_is_never_unloaded(tmp_path, tiny_models):
    models = manager(tmp_path, tiny_models, model_memory_budget_gb=0.012)
    first = models.spec(INSTRUCT, "timbrooks/instruct-pix2pix")
    second = models.spec(RESTYLE, "stable-diffusion-v1-5/stable-diffusion-v1-5")
    with models.use(first), models.use(second):
        assert models.is_loaded(first) and models.is_loaded(second)


def test_kontext_family_gets_its_own_tiny_stand_in():
    assert INSTRUCT.tiny_model("black-forest-labs/FLUX.1-Kontext-dev") == "flux-kontext"
    assert INSTRUCT.tiny_model("timbrooks/instruct-pix2pix") == "sd-pix2pix"
