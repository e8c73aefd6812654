"""The contract every registered operation keeps, run on tiny models through EditService.

A new operation in the registry is picked up here automatically.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kernel.errors import RunCancelled, RunFailed, UserError
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from store.db import create_engine, migrate
from store.usage import UsageLog
from tests import samples

SIZE = (64, 48)
EXPECTED_SIZE = {"outpaint": (64 + 16, 48), "upscale": (128, 96)}  # everything else keeps its size


@pytest.fixture(scope="module")
def service(settings, tmp_path_factory) -> EditService:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('ops') / 'usage.db'}")
    migrate(engine)
    return EditService(settings, ModelManager(settings), DeviceQueue(4), UsageLog(engine))


def request_for(op_id: str, seed: int | None = 5, **overrides) -> EditRequest:
    """A valid request for any operation, built from the inputs it declares."""
    op = OPERATIONS[op_id]
    mask = None
    if "mask" in op.inputs:
        mask = Image.new("L", SIZE, 0)
        mask.paste(255, (20, 12, 44, 36))
    values = dict(
        operation=op_id,
        image=samples.noise(*SIZE, seed=1),
        prompt="a small test" if op.prompt_label else "",
        mask=mask,
        seed=seed,
        steps=2 if "steps" in op.inputs else None,
        strength=0.5 if "strength" in op.inputs else None,
        scale=2 if "scale" in op.inputs else None,
        directions=("right",) if "directions" in op.inputs else (),
        amount=25 if "amount" in op.inputs else None,
        points=((20.0, 12.0, 1),) if "points" in op.inputs else None,
    )
    values.update(overrides)
    return EditRequest(**values)


def last_usage(service: EditService) -> dict:
    return service.usage.recent(1)[0]


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_output_is_a_picture_of_the_right_size_and_mode(service, op_id):
    result = service.run(request_for(op_id))
    assert isinstance(result.image, Image.Image)
    assert result.image.size == EXPECTED_SIZE.get(op_id, SIZE)
    assert result.image.mode == (OPERATIONS[op_id].output_mode or "RGB")
    assert not result.image.info
    assert len(result.run_id) == 32 and result.weights == "tiny"
    assert last_usage(service)["status"] == "ok" and last_usage(service)["run_id"] == result.run_id


def test_demo_weights_work_small_even_for_an_upscale_and_the_result_has_the_full_size(service, monkeypatch):
    """Demo weights give noise, so a demo upscale works at the working size (fast) and is scaled to the target."""
    seen = []
    tiled = OPERATIONS["upscale"].forward

    def watching(model, batch, on_step):
        seen.extend(item.model_input["image"].size for item in batch)
        return tiled(model, batch, on_step)

    monkeypatch.setattr(OPERATIONS["upscale"], "forward", watching)
    result = service.run(request_for("upscale", image=samples.noise(400, 300, seed=2)))
    assert result.image.size == (800, 600)
    assert seen and seen[0][0] * seen[0][1] <= service.settings.tiny_working_pixels


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_same_inputs_and_seed_give_the_same_pixels(service, op_id):
    first = service.run(request_for(op_id, seed=42)).image
    again = service.run(request_for(op_id, seed=42)).image
    assert np.array_equal(np.asarray(first), np.asarray(again))
    if OPERATIONS[op_id].uses_seed:
        other = service.run(request_for(op_id, seed=43)).image
        assert not np.array_equal(np.asarray(first), np.asarray(other))


@pytest.mark.parametrize("op_id", [op.id for op in OPERATIONS.values() if op.uses_seed])
def test_a_random_seed_is_chosen_and_reported(service, op_id):
    result = service.run(request_for(op_id, seed=None))
    replay = service.run(request_for(op_id, seed=result.seed))
    assert np.array_equal(np.asarray(result.image), np.asarray(replay.image))


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_progress_reaches_100_percent(service, op_id):
    reports: list[tuple[int, int, str]] = []
    service.run(request_for(op_id), on_progress=lambda done, total, what: reports.append((done, total, what)))
    editing = [(d, t) for d, t, what in reports if what == "Editing"]
    assert editing, reports
    done, total = editing[-1]
    assert done == total >= 1
    assert all(d <= t for d, t in editing)


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_cancel_stops_the_run(service, op_id):
    import threading

    cancel = threading.Event()
    steps_seen = []

    def on_progress(done: int, total: int, what: str) -> None:
        if what == "Editing":
            steps_seen.append(done)
            cancel.set()  # the user presses Cancel as soon as the first step is reported

    request = request_for(op_id, steps=20) if "steps" in OPERATIONS[op_id].inputs else request_for(op_id)
    try:
        service.run(request, on_progress=on_progress, cancel=cancel)
    except RunCancelled:
        assert last_usage(service)["status"] == "cancelled"
        assert len(steps_seen) <= 2  # stopped within one step of the press
    else:
        # single-pass models (segmentation, one-tile upscale) finish in the step that reports
        assert len(steps_seen) == 1 and steps_seen[0] == 1


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_an_error_inside_the_model_surfaces_as_a_clean_message(service, op_id, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("CUDA kernel exploded at 0x7f3a")

    monkeypatch.setattr(OPERATIONS[op_id], "forward", broken)
    with pytest.raises(RunFailed) as failure:
        service.run(request_for(op_id))
    message = str(failure.value)
    assert "could not finish" in message and "0x7f3a" not in message
    assert last_usage(service)["run_id"][:8] in message
    assert last_usage(service)["status"] == "failed"


def test_out_of_memory_gets_its_own_advice(service, monkeypatch):
    class OutOfMemoryError(RuntimeError):
        pass

    def oom(*_args, **_kwargs):
        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(OPERATIONS["restyle"], "forward", oom)
    with pytest.raises(RunFailed, match="ran out of memory"):
        service.run(request_for("restyle"))


def test_bad_requests_are_rejected_before_any_model_work(service):
    with pytest.raises(UserError, match="Unknown operation"):
        service.run(request_for("instruct_edit", operation="sharpen"))
    with pytest.raises(UserError, match="mask is empty"):
        service.run(request_for("inpaint", mask=Image.new("RGBA", SIZE, (0, 0, 0, 0))))
    with pytest.raises(UserError, match="same size"):
        service.run(request_for("inpaint", mask=Image.new("L", (10, 10), 255)))
    assert last_usage(service)["status"] == "rejected"


@pytest.fixture
def noncommercial_allowed(service, monkeypatch):
    """The test app sells credits (Creem is configured), so non-commercial models are offered only with the flag."""
    monkeypatch.setattr(service, "settings", service.settings.model_copy(update={"allow_noncommercial_models": True}))


def test_flux_kontext_is_selectable_for_instruction_edits(service, noncommercial_allowed):
    result = service.run(request_for("instruct_edit", model="black-forest-labs/FLUX.1-Kontext-dev"))
    assert result.image.size == SIZE and result.model_id == "black-forest-labs/FLUX.1-Kontext-dev"
    loaded = service.models.spec(OPERATIONS["instruct_edit"], "black-forest-labs/FLUX.1-Kontext-dev")
    with service.models.use(loaded) as model:
        assert type(model.pipe).__name__ == "FluxKontextPipeline"


def test_non_commercial_models_are_refused_where_credits_are_sold(service):
    with pytest.raises(UserError, match="not one of the models offered"):
        service.run(request_for("instruct_edit", model="black-forest-labs/FLUX.1-Kontext-dev"))
    with pytest.raises(UserError, match="not one of the models offered"):
        service.run(request_for("remove_background", model="briaai/RMBG-1.4"))


def test_remove_background_runs_birefnet_by_default(service):
    request = request_for("remove_background", image=samples.noise(*SIZE, seed=3, mode="RGBA"))
    result = service.run(request)
    assert result.model_id == "ZhengPeng7/BiRefNet" and result.weights == "tiny"
    assert result.image.mode == "RGBA" and result.image.size == SIZE
    rgb = np.asarray(result.image)[..., :3]
    assert np.array_equal(rgb, np.asarray(request.image)[..., :3])  # only the alpha changes
    alpha = np.asarray(result.image)[..., 3]
    assert (alpha <= np.asarray(request.image)[..., 3]).all()  # what was transparent stays so
    spec = service.models.spec(OPERATIONS["remove_background"], "ZhengPeng7/BiRefNet")
    assert spec.kind == "matting" and spec.tiny_name == "birefnet"
    with service.models.use(spec) as model:
        assert type(model.pipe.model).__name__ == "TinyMatting"


def test_remove_background_with_rmbg_chosen(service, noncommercial_allowed):
    result = service.run(request_for("remove_background", model="briaai/RMBG-1.4"))
    assert result.model_id == "briaai/RMBG-1.4"
    assert result.image.mode == "RGBA" and result.image.size == SIZE
    spec = service.models.spec(OPERATIONS["remove_background"], "briaai/RMBG-1.4")
    assert spec.kind == "segmentation" and spec.tiny_name == "segformer"


def test_restyle_never_runs_zero_steps(service):
    # int(steps * strength) == 0 crashes img2img; the operation raises the step count instead
    result = service.run(request_for("restyle", steps=1, strength=0.3))
    assert result.image.size == SIZE


def test_inpaint_keeps_everything_outside_the_brush(service):
    request = request_for("inpaint")
    result = np.asarray(service.run(request).image)
    original = np.asarray(request.image)
    assert np.array_equal(result[:, :4], original[:, :4])  # far from the brush: untouched
    assert not np.array_equal(result[20:30, 28:36], original[20:30, 28:36])  # under it: repainted


def test_outpaint_keeps_the_original_in_place(service):
    request = request_for("outpaint", directions=("left", "up"), amount=25)
    result = np.asarray(service.run(request).image)
    assert result.shape[:2] == (48 + 12, 64 + 16)
    inner = result[12 + 8 :, 16 + 8 :]  # past the seam band, the original pixels are exact
    assert np.array_equal(inner, np.asarray(request.image)[8:, 8:])


def test_transparency_survives_whole_picture_edits(service):
    rgba = samples.noise(*SIZE, seed=2, mode="RGBA")
    result = service.run(request_for("restyle", image=rgba)).image
    assert result.mode == "RGBA"
    assert np.array_equal(np.asarray(result)[..., 3], np.asarray(rgba)[..., 3])
