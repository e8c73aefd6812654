"""ACCELERATIONS=compile: canvases snap to a few size buckets, every bucket is compiled by a warm-up edit
right after loading (before the model counts as loaded, so before /readyz says ready), and a visitor's
edit afterwards compiles nothing.

The compiler here is a counting backend that runs the captured graph as it is (dynamo traces and guards
exactly as with inductor, so a new shape is a new compilation either way): inductor would need minutes
of C++ builds on CI's CPU. That inductor's kernels run fast is for a GPU (bench/gpu.py).
"""

from __future__ import annotations

import pytest
import torch

from pipelines import acceleration
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.diffusion import size_multiple
from pipelines.geometry import fit_canvas, size_buckets
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from tests import samples
from tests.conftest import make_settings


class CountingBackend:
    """A torch.compile backend that records each graph it is given and runs it uncompiled."""

    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, graph: torch.fx.GraphModule, _example_inputs: list) -> object:
        self.graphs += 1
        return graph.forward


@pytest.fixture
def counting(monkeypatch) -> CountingBackend:
    backend = CountingBackend()
    monkeypatch.setattr(acceleration, "COMPILE_BACKEND", backend)
    torch._dynamo.reset()  # nothing compiled by an earlier test counts
    yield backend
    torch._dynamo.reset()


def test_buckets_are_few_fixed_sizes_and_every_picture_lands_in_one_without_distortion():
    buckets = size_buckets(1024 * 1024, 16)
    assert buckets == ((1024, 1024), (1168, 880), (880, 1168), (1360, 768), (768, 1360))
    for size in [(4000, 3000), (3000, 4000), (1920, 1080), (6000, 4000), (500, 500), (37, 900), (6000, 1000)]:
        canvas = fit_canvas(size, max_pixels=1024 * 1024, multiple=16, bucketed=True)
        assert canvas.padded in buckets
        assert canvas.scaled[0] <= canvas.padded[0] and canvas.scaled[1] <= canvas.padded[1]
        filled = canvas.scaled[0] * canvas.scaled[1] / (canvas.padded[0] * canvas.padded[1])
        assert filled > 0.85 or size in [(37, 900), (6000, 1000)]  # photos' aspects: little padding
        assert abs(canvas.scaled[0] / canvas.scaled[1] - size[0] / size[1]) < 0.05 * size[0] / size[1] + 0.02


def test_the_warm_up_compiles_every_bucket_before_the_model_is_loaded_and_edits_after_compile_nothing(
    tmp_path, tiny_models, counting
):
    settings = make_settings(tmp_path, tiny_models, accelerations=["compile"])
    models = ModelManager(settings)
    service = EditService(settings, models, DeviceQueue(settings.max_batch_size), usage=None)
    op = OPERATIONS["instruct_edit"]
    spec = service.default_spec(op)
    seen: list[tuple[int, int]] = []
    loaded_during_warm_up: list[bool] = []
    real_warm_up = service.warm_up

    def watched_warm_up(op_, model):
        model.pipe.unet.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape[-2:])))
        loaded_during_warm_up.append(models.is_loaded(spec))
        real_warm_up(op_, model)

    service.warm_up = watched_warm_up
    service.preload(op.id).join()
    assert models.is_loaded(spec) and loaded_during_warm_up == [False]  # /readyz said "loading" meanwhile
    with models.use(spec) as model:
        assert model.accelerations == ("compile",)
        buckets = size_buckets(settings.tiny_working_pixels, size_multiple(model.pipe))
        factor = model.pipe.vae_scale_factor
    assert len(buckets) >= 4 and model.warmed_up == buckets
    assert {(h * factor, w * factor) for h, w in seen} == {(h, w) for w, h in buckets}  # each bucket ran
    compiled_at_start = counting.graphs  # one graph per distinct shape its blocks saw (72×48 and 48×72: the same)
    assert compiled_at_start > 0

    seen.clear()
    for size in [(50, 37), (90, 90)]:  # neither of them a bucket's own size
        result = service.run(EditRequest(op.id, samples.noise(*size, seed=1), prompt="snow", steps=1, seed=3))
        assert result.image.size == size
    assert {(h * factor, w * factor) for h, w in seen} <= {(h, w) for w, h in buckets}
    assert counting.graphs == compiled_at_start  # no visitor paid for a compilation

    batch_sizes: list[int] = []  # a batch runs one picture per call: a batch of two would be a new shape
    with models.use(spec) as model:
        model.pipe.unet.register_forward_pre_hook(lambda _m, args: batch_sizes.append(args[0].shape[0]))
        limits = service.limits(model.weights, bucketed=True)
        batch = [op.prepare(EditRequest(op.id, samples.noise(40, 30, seed=s), prompt="snow", steps=1), model, s,
                            limits) for s in range(2)]
        assert len(op.forward(model, batch, lambda done, total: None)) == 2
    assert set(batch_sizes) == {3}  # one picture, times three for instruct-pix2pix's guidance
    assert counting.graphs == compiled_at_start


def test_a_model_whose_compilation_fails_in_the_warm_up_runs_uncompiled(tmp_path, tiny_models, monkeypatch, caplog):
    def broken(graph, _example_inputs):
        raise RuntimeError("no compiler for this block")

    monkeypatch.setattr(acceleration, "COMPILE_BACKEND", broken)
    torch._dynamo.reset()
    settings = make_settings(tmp_path, tiny_models, accelerations=["compile"])
    models = ModelManager(settings)
    service = EditService(settings, models, DeviceQueue(1), usage=None)
    op = OPERATIONS["instruct_edit"]
    with caplog.at_level("WARNING", logger="pipelines.service"):
        result = service.run(EditRequest(op.id, samples.noise(50, 37, seed=1), prompt="snow", steps=1, seed=3))
    assert result.image.size == (50, 37)
    assert "failed in its warm-up" in caplog.text
    with models.use(service.default_spec(op)) as model:
        assert model.accelerations == () and not model.compiled and model.warmed_up == ()
    torch._dynamo.reset()


@pytest.mark.parametrize("op_id", ["instruct_edit", "inpaint", "outpaint", "restyle"])
def test_each_diffusion_operations_warm_up_edits_land_on_every_bucket(tmp_path, tiny_models, op_id):
    from pipelines import warmup

    settings = make_settings(tmp_path, tiny_models)
    models = ModelManager(settings)
    service = EditService(settings, models, DeviceQueue(1), usage=None)
    op = OPERATIONS[op_id]
    with models.use(service.default_spec(op)) as model:
        limits = service.limits(model.weights, bucketed=True)
        edits = warmup.prepared_edits(op, model, limits)
        buckets = warmup.buckets(model, limits)
    assert [item.restore["canvas"].padded for item in edits] == list(buckets)
    for item in edits:
        shared = item.shared
        assert shared["num_inference_steps"] * shared.get("strength", 1.0) >= 1  # the denoiser runs
