"""ZeroGPU with ACCELERATIONS=compile: the denoiser is compiled ahead of time at start, by spaces' own
functions, in one GPU call: for each size bucket, aoti_capture of the denoiser's inputs and aoti_compile of
the exported denoiser (in the worker), then aoti_apply here; edits afterwards run the compiled buckets.

On the stand-in `spaces` (tests/pipelines/zerogpu_standin.py): aoti_capture and aoti_apply are the real
package's functions; aoti_compile, which builds CUDA kernels, is a stand-in that runs the exported program.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys

import pytest
import torch

from pipelines import geometry, zerogpu
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.diffusion import size_multiple
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from tests import samples
from tests.conftest import make_settings, require
from tests.pipelines import zerogpu_standin


@pytest.fixture
def on_zero_gpu(monkeypatch, tmp_path):
    require(importlib.util.find_spec("spaces") is not None, "the `spaces` package (requirements-dev.txt)")
    zerogpu_standin.real_aoti()  # before SPACES_ZERO_GPU: set, the real package wants ZeroGPU's own servers
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    monkeypatch.setitem(sys.modules, "spaces", zerogpu_standin)
    monkeypatch.setattr(zerogpu_standin, "CALL_LOG", tmp_path / "aoti-calls.log")
    monkeypatch.setattr(geometry, "BUCKET_ASPECTS", (1.0, 4 / 3))  # two buckets: enough to tell them apart
    return tmp_path / "aoti-calls.log"


def test_the_denoiser_is_compiled_ahead_of_time_per_bucket_and_edits_run_the_compiled_buckets(
    on_zero_gpu, tmp_path, tiny_models
):
    settings = make_settings(tmp_path, tiny_models, accelerations=["compile"], device="cpu")
    models = ModelManager(settings)
    service = EditService(settings, models, DeviceQueue(1), usage=None,
                          device_work=zerogpu.attach(models, settings.zero_gpu_duration_s))
    op = OPERATIONS["instruct_edit"]
    spec = service.default_spec(op)
    service.preload(op.id).join()
    assert models.is_loaded(spec)
    with models.use(spec) as model:
        unet = model.pipe.unet
        buckets = geometry.size_buckets(settings.tiny_working_pixels, size_multiple(model.pipe))
        assert model.warmed_up == buckets and len(buckets) == 2
    assert zerogpu_standin.DURATIONS[-1] == zerogpu.AOTI_DURATION_S

    calls = [line.split(" ", 1) for line in on_zero_gpu.read_text().splitlines()]
    here = str(__import__("os").getpid())
    worker = {pid for pid, _ in calls[:-1]}
    assert len(worker) == 1 and here not in worker  # capture and compile ran in the GPU worker, in one call
    assert [what for _, what in calls] == [
        "aoti_capture UNet2DConditionModel", "aoti_compile ExportedProgram",
        "aoti_capture UNet2DConditionModel", "aoti_compile ExportedProgram",
        "aoti_apply BucketedModel UNet2DConditionModel",
    ]
    assert calls[-1][0] == here  # applied here, where the model lives
    assert isinstance(unet.forward, zerogpu.BucketedModel) and len(unet.forward.compiled) == 2
    assert all(p.numel() == 0 for p in unet.parameters())  # aoti_apply drained them: the compiled buckets hold them

    for size in [(50, 37), (40, 40)]:  # an edit in each bucket, through the GPU worker
        result = service.run(EditRequest(op.id, samples.noise(*size, seed=1), prompt="snow", steps=2, seed=3))
        assert result.image.size == size


def test_the_standins_aoti_functions_have_the_real_signatures():
    require(importlib.util.find_spec("spaces") is not None, "the `spaces` package (requirements-dev.txt)")
    real = zerogpu_standin.real_aoti()

    def names(fn) -> list[tuple[str, object]]:
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    for name in ("aoti_capture", "aoti_compile", "aoti_apply"):
        assert names(getattr(zerogpu_standin, name)) == names(getattr(real, name)), name
    assert torch.export.export  # what compile_denoiser exports with
