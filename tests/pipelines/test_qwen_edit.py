"""Qwen-Image-Edit-2511 and its Lightning LoRA on the tiny stand-in, end to end through EditService; the
stand-in's pipeline with one, two and three reference pictures (as the compose operation calls it)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pipelines import tiny
from pipelines.base import Limits
from pipelines.models import ModelManager
from pipelines.ops.instruct_edit import LIGHTNING_REPO, QWEN_EDIT
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from tests import samples
from tests.conftest import make_settings
from tests.pipelines.test_klein import cpu_service
from tests.pipelines.test_operations import SIZE, request_for

EDIT = OPERATIONS["instruct_edit"]
LIGHTNING_4 = f"{QWEN_EDIT}+Lightning-4steps"
LIGHTNING_8 = f"{QWEN_EDIT}+Lightning-8steps"


@pytest.fixture(scope="module")
def service(tmp_path_factory, tiny_models) -> EditService:
    return cpu_service(tmp_path_factory.mktemp("qwen"), tiny_models)


def loaded(service: EditService, model_id: str):
    with service.models.use(service.models.spec(EDIT, model_id)) as model:
        return model


def test_qwen_edit_2511_edits_end_to_end_on_its_stand_in(service):
    first = service.run(request_for("instruct_edit", seed=42, model=QWEN_EDIT, steps=1))
    assert first.model_id == QWEN_EDIT and first.weights == "tiny"
    assert first.image.size == SIZE and first.image.mode == "RGB"
    again = service.run(request_for("instruct_edit", seed=42, model=QWEN_EDIT, steps=1)).image
    assert np.array_equal(np.asarray(first.image), np.asarray(again))
    model = loaded(service, QWEN_EDIT)
    assert type(model.pipe).__name__ == "QwenImageEditPlusPipeline" and model.spec.lora is None
    assert type(model.pipe.processor).__name__ == "ImageOnlyQwen2VLProcessor"


def test_the_stand_in_is_saved_as_the_real_repo_names_its_classes(tiny_models):
    folder = tiny.ensure("qwen-edit-plus", tiny_models)
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "QwenImageEditPlusPipeline"
    assert index["processor"] == ["transformers", "Qwen2VLProcessor"]
    assert index["text_encoder"] == ["transformers", "Qwen2_5_VLForConditionalGeneration"]
    assert (folder / tiny.TINY_LORA).is_file()


def test_lightning_fuses_its_lora_into_a_copy_of_its_own_and_runs_4_steps_without_cfg(service):
    steps: list[tuple[int, int]] = []
    result = service.run(request_for("instruct_edit", model=LIGHTNING_4, steps=None),
                         on_progress=lambda done, total, *_: steps.append((done, total)))
    assert result.model_id == LIGHTNING_4 and result.image.size == SIZE
    assert (4, 4) in steps and (5, 5) not in steps
    base, fast = loaded(service, QWEN_EDIT), loaded(service, LIGHTNING_4)
    assert fast.base is None and fast.pipe.transformer is not base.pipe.transformer  # fused: never shared
    assert fast.spec.source == base.spec.source  # the same stand-in folder, plus its LoRA
    before = base.pipe.transformer.transformer_blocks[0].attn.to_q.weight
    after = fast.pipe.transformer.transformer_blocks[0].attn.to_q.weight
    assert type(fast.pipe.transformer.transformer_blocks[0].attn.to_q) is torch.nn.Linear  # no adapter left
    assert not torch.equal(before, after)
    scheduler = fast.pipe.scheduler.config
    assert scheduler.use_dynamic_shifting and scheduler.time_shift_type == "exponential"
    prepared = EDIT.prepare(request_for("instruct_edit", model=LIGHTNING_4, steps=None), fast, 1, _limits())
    assert prepared.shared["num_inference_steps"] == 4 and prepared.shared["true_cfg_scale"] == 1.0
    assert "negative_prompt" not in prepared.shared


def test_the_base_keeps_its_own_steps_and_true_cfg(service):
    prepared = EDIT.prepare(request_for("instruct_edit", model=QWEN_EDIT, steps=None),
                            loaded(service, QWEN_EDIT), 1, _limits())
    assert prepared.shared["num_inference_steps"] == 40 and prepared.shared["true_cfg_scale"] == 4.0
    assert prepared.shared["negative_prompt"] == " "


@pytest.mark.parametrize("count", [1, 3])
def test_the_stand_in_takes_one_or_three_reference_pictures(service, count):
    pipe = loaded(service, QWEN_EDIT).pipe
    pictures = [samples.noise(48 + 16 * index, 48, seed=index) for index in range(count)]
    with torch.inference_mode():
        out = pipe(image=pictures, prompt="put them together", num_inference_steps=1, true_cfg_scale=1.0,
                   height=32, width=64, generator=torch.Generator("cpu").manual_seed(1)).images
    assert len(out) == 1 and out[0].size == (64, 32)


def test_lightning_choices_load_the_base_and_the_real_lora_file_on_real_weights(tmp_path, tiny_models):
    models = ModelManager(make_settings(tmp_path, tiny_models, model_profile="real"))
    four, eight, base = (models.spec(EDIT, model_id) for model_id in (LIGHTNING_4, LIGHTNING_8, QWEN_EDIT))
    assert four.source == eight.source == base.source == QWEN_EDIT
    assert four.lora_source == LIGHTNING_REPO
    assert four.lora_file == "Qwen-Image-Edit-2511-Lightning-4steps-V1.0-bf16.safetensors"
    assert eight.lora_file == "Qwen-Image-Edit-2511-Lightning-8steps-V1.0-bf16.safetensors"
    assert len({four.key, eight.key, base.key}) == 3  # three loaded copies, never one shared
    demo = ModelManager(make_settings(tmp_path, tiny_models)).spec(EDIT, LIGHTNING_8)
    assert demo.tiny_name == "qwen-edit-plus" and demo.lora_file == tiny.TINY_LORA
    assert demo.lora_source == demo.source == str(tiny_models / "qwen-edit-plus")


def test_every_qwen_choice_says_its_licence_and_speed():
    for model_id, speed in ((QWEN_EDIT, "slow"), (LIGHTNING_4, "medium"), (LIGHTNING_8, "medium")):
        model = EDIT.model(model_id)
        assert model.licence == "Apache-2.0" and model.commercial and model.speed == speed and model.name
    assert EDIT.model(LIGHTNING_4).lora.steps == 4 and EDIT.model(LIGHTNING_8).lora.steps == 8
    assert EDIT.tiny_model("Qwen/Qwen-Image-Edit") == "qwen-edit-plus"  # an operator's older Qwen: its family


def _limits() -> Limits:
    return Limits(working_pixels=SIZE[0] * SIZE[1], demo=True)
