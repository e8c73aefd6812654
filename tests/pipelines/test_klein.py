"""FLUX.2 [klein] 4B on its tiny stand-in, end to end through EditService, and the device-aware default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines import device
from pipelines.batcher import DeviceQueue
from pipelines.models import ModelManager
from pipelines.ops.instruct_edit import KLEIN
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from store.db import create_engine, migrate
from store.usage import UsageLog
from tests.conftest import make_settings
from tests.pipelines.test_operations import EXPECTED_SIZE, SIZE, request_for

KLEIN_OPS = ("instruct_edit", "inpaint", "outpaint")
PIPELINE = {"instruct_edit": "Flux2KleinPipeline", "inpaint": "Flux2KleinInpaintPipeline",
            "outpaint": "Flux2KleinInpaintPipeline"}


def cpu_service(data: Path, tiny_models: Path) -> EditService:
    """An EditService on the CPU with demo weights and its own usage database in `data`."""
    settings = make_settings(data, tiny_models, device="cpu")
    engine = create_engine(f"sqlite:///{data / 'usage.db'}")
    migrate(engine)
    return EditService(settings, ModelManager(settings), DeviceQueue(4), UsageLog(engine))


@pytest.fixture(scope="module")
def service(tmp_path_factory, tiny_models) -> EditService:
    return cpu_service(tmp_path_factory.mktemp("klein"), tiny_models)


def loaded_pipe(service: EditService, op_id: str):
    with service.models.use(service.models.spec(OPERATIONS[op_id], KLEIN)) as model:
        return model


@pytest.mark.parametrize("op_id", KLEIN_OPS)
def test_klein_edits_end_to_end_on_its_stand_in(service, op_id):
    first = service.run(request_for(op_id, seed=42, model=KLEIN))
    assert first.model_id == KLEIN and first.weights == "tiny"
    assert first.image.size == EXPECTED_SIZE.get(op_id, SIZE) and first.image.mode == "RGB"
    again = service.run(request_for(op_id, seed=42, model=KLEIN)).image
    other = service.run(request_for(op_id, seed=43, model=KLEIN)).image
    assert np.array_equal(np.asarray(first.image), np.asarray(again))
    assert not np.array_equal(np.asarray(first.image), np.asarray(other))
    model = loaded_pipe(service, op_id)
    assert type(model.pipe).__name__ == PIPELINE[op_id]
    assert model.pipe.config.is_distilled


def test_klein_inpaint_keeps_everything_outside_the_brush(service):
    request = request_for("inpaint", model=KLEIN)
    result = np.asarray(service.run(request).image)
    original = np.asarray(request.image)
    assert np.array_equal(result[:, :4], original[:, :4])
    assert not np.array_equal(result[20:30, 28:36], original[20:30, 28:36])


def test_klein_outpaint_keeps_the_original_in_place(service):
    request = request_for("outpaint", directions=("left", "up"), amount=25, model=KLEIN)
    result = np.asarray(service.run(request).image)
    assert result.shape[:2] == (48 + 12, 64 + 16)
    assert np.array_equal(result[12 + 8 :, 16 + 8 :], np.asarray(request.image)[8:, 8:])


def test_the_inpainting_pipeline_shares_the_instruction_pipelines_weights(service):
    service.run(request_for("instruct_edit", model=KLEIN))
    service.run(request_for("inpaint", model=KLEIN))
    edit, inpaint = loaded_pipe(service, "instruct_edit"), loaded_pipe(service, "inpaint")
    assert inpaint.pipe.transformer is edit.pipe.transformer and inpaint.base is edit


def test_instruction_edits_share_weights_the_inpainting_pipeline_loaded_first(tmp_path, tiny_models):
    models = ModelManager(make_settings(tmp_path, tiny_models, device="cpu"))
    with models.use(models.spec(OPERATIONS["inpaint"], KLEIN)) as inpaint, \
            models.use(models.spec(OPERATIONS["instruct_edit"], KLEIN)) as edit:
        assert type(edit.pipe).__name__ == "Flux2KleinPipeline" and edit.base is inpaint
        assert edit.pipe.transformer is inpaint.pipe.transformer


def test_klein_is_called_step_distilled_without_a_negative_prompt(service):
    op = OPERATIONS["inpaint"]
    request = request_for("inpaint", model=KLEIN, steps=None)
    with service.models.use(service.models.spec(op, KLEIN)) as model:
        prepared = op.prepare(request, model, 1, _limits())
    assert prepared.shared["num_inference_steps"] == 4 and prepared.shared["guidance_scale"] == 1.0
    assert "negative_prompt" not in prepared.model_input


def test_a_batch_of_klein_edits_gives_each_its_own_picture(service):
    op = OPERATIONS["instruct_edit"]
    with service.models.use(service.models.spec(op, KLEIN)) as model:
        items = [op.prepare(request_for("instruct_edit", model=KLEIN), model, seed, _limits()) for seed in (1, 2)]
        together = op.forward(model, items, lambda done, total: None)
        alone = op.forward(model, items[1:], lambda done, total: None)
    assert len(together) == 2
    assert np.array_equal(np.asarray(together[1]), np.asarray(alone[0]))


def test_a_small_picture_is_enlarged_for_klein_but_the_result_keeps_its_size(service):
    picture = Image.new("RGB", (40, 30), (10, 120, 200))
    result = service.run(request_for("instruct_edit", model=KLEIN, image=picture)).image
    assert result.size == (40, 30)


def _limits():
    from pipelines.base import Limits

    return Limits(working_pixels=SIZE[0] * SIZE[1], demo=True)


# ------------------------------------------------------------------ the default, by device


@pytest.mark.parametrize(("kind", "gib", "large"), [
    ("cuda", 80, True), ("cuda", 16, True), ("cuda", 12, False), ("cpu", 512, False), ("mps", 64, False),
])
def test_only_a_cuda_gpu_with_16_gb_prefers_the_large_models(kind, gib, large):
    assert device.prefers_large_models(kind, gib * 2**30) is large


@pytest.mark.parametrize("op_id", KLEIN_OPS)
def test_the_default_follows_the_device_unless_the_operator_chose(tmp_path, tiny_models, monkeypatch, op_id):
    op = OPERATIONS[op_id]
    settings = make_settings(tmp_path, tiny_models)
    small = op.models[0].id  # InstructPix2Pix / SD inpainting
    monkeypatch.setattr("pipelines.base.large_gpu", lambda preference: False)
    assert op.default_model(settings) == small and KLEIN in op.model_choices(settings)
    monkeypatch.setattr("pipelines.base.large_gpu", lambda preference: True)
    assert op.default_model(settings) == KLEIN and op.model_choices(settings)[0] == KLEIN
    chosen = make_settings(tmp_path, tiny_models, **{op.model_setting: small})
    assert op.default_model(chosen) == small
    listed = make_settings(tmp_path, tiny_models, **{op.models_setting: small})
    assert op.model_choices(listed) == [small]  # not offered: not the default either


def test_the_device_rule_reads_the_device_it_will_run_on(monkeypatch):
    device.large_gpu.cache_clear()
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(device, "pick_device", lambda preference: "cuda")
    monkeypatch.setattr(device, "total_memory", lambda kind: 24 * 2**30)
    assert device.large_gpu("auto")
    device.large_gpu.cache_clear()
    monkeypatch.setattr(device, "total_memory", lambda kind: 8 * 2**30)
    assert not device.large_gpu("auto")
    device.large_gpu.cache_clear()


def test_without_an_nvidia_driver_the_rule_does_not_import_torch(monkeypatch):
    def no_torch(_preference):
        raise AssertionError("torch was asked")

    device.large_gpu.cache_clear()
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: False)
    monkeypatch.setattr(device, "pick_device", no_torch)
    assert not device.large_gpu("auto") and not device.large_gpu("cpu")
    device.large_gpu.cache_clear()
