"""The real architectures at full depth, random weights, on a CUDA GPU: what tests/pipelines/test_real_size.py
checks at reduced depth on the CPU, here layer for layer and in the dtypes production uses (fp16 for
Stable Diffusion, bf16 for FLUX), plus the out-of-memory retry with a real `enable_model_cpu_offload`.

Weights are made on the GPU in bf16 (fast) and saved to a temporary folder, then loaded through
ModelManager like real ones. FLUX.1 Kontext takes about 34 GB of disk and of GPU memory, FLUX.2 [klein]
4B about 16 GB, Qwen-Image-Edit-2511 about 58 GB (an 80 GB GPU); each temporary build is removed after
its cases, since together they would not fit a 64 GB disk. Set STUDIO_REAL_SIZE_CACHE to a folder to
keep the builds between runs instead.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
import torch

from pipelines import real_size
from pipelines.base import Limits
from pipelines.batcher import DeviceQueue
from pipelines.diffusion import size_multiple
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from tests.conftest import make_settings
from tests.pipelines.test_real_size import EXPECTED, SD15, request_for

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU: full-depth real-size models (FLUX.1 Kontext alone has 12 B parameters)",
)

SIZE = (512, 384)  # a real-model size, kept small enough for a quick run
WORKING = Limits(working_pixels=SIZE[0] * SIZE[1])
FLUX = "black-forest-labs/FLUX.1-Kontext-dev"
KLEIN, QWEN_EDIT = "black-forest-labs/FLUX.2-klein-4B", "Qwen/Qwen-Image-Edit-2511"
SAM3 = "facebook/sam3"
LARGE = (FLUX, KLEIN, QWEN_EDIT)  # tens of GB each on disk
CASES = [case for case in EXPECTED if case[1] in real_size.REAL_IDS] + [
    ("instruct_edit", FLUX), ("instruct_edit", KLEIN), ("inpaint", KLEIN), ("instruct_edit", QWEN_EDIT),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = os.environ.get("STUDIO_REAL_SIZE_CACHE")
    root = Path(cache) if cache else tmp_path_factory.mktemp("real-size-full")

    def folder(model_id: str) -> Path:
        name = real_size.REAL_IDS[model_id]
        return real_size.build(name, root / f"{name}-full", depth="full", dtype=torch.bfloat16, device="cuda")

    return folder


def manager(tmp_path: Path, **overrides) -> ModelManager:
    return ModelManager(make_settings(tmp_path, tmp_path / "tiny", device="cuda", model_profile="real", **overrides))


@pytest.mark.parametrize(("op_id", "model_id"), CASES)
def test_the_operation_runs_at_full_depth_on_the_gpu(built, tmp_path, op_id, model_id):
    op = OPERATIONS[op_id]
    folder = built(model_id)
    request = request_for(op_id, SIZE)
    if model_id == SAM3:  # words, not clicks
        request.values.update(points=None, text="a small test")
    if op_id == "upscale":
        request.values["scale"] = EXPECTED[(op_id, model_id)]["upscale"]
    models = manager(tmp_path)
    steps: list[tuple[int, int]] = []
    with models.use(real_size.spec(op, model_id, folder)) as model:
        assert model.weights == "real" and model.device == "cuda"
        pipe = model.pipe
        if model_id == KLEIN:
            assert type(pipe).__name__ in ("Flux2KleinPipeline", "Flux2KleinInpaintPipeline")
            assert pipe.transformer.dtype == torch.bfloat16 and size_multiple(pipe) == 16
            assert (pipe.transformer.config.num_layers, pipe.transformer.config.num_single_layers) == (5, 20)
            assert pipe.text_encoder.config.num_hidden_layers == 36 and pipe.vae.config.latent_channels == 32
        elif model_id == QWEN_EDIT:
            assert type(pipe).__name__ == "QwenImageEditPlusPipeline" and size_multiple(pipe) == 16
            assert pipe.transformer.dtype == torch.bfloat16 and pipe.transformer.config.num_layers == 60
            assert pipe.text_encoder.config.vision_config.depth == 32 and pipe.vae.config.z_dim == 16
        elif model_id == FLUX:
            assert type(pipe).__name__ == "FluxKontextPipeline" and size_multiple(pipe) == 16
            assert pipe.transformer.dtype == torch.bfloat16 and pipe.transformer.config.in_channels == 64
            assert (pipe.transformer.config.num_layers, pipe.transformer.config.num_single_layers) == (19, 38)
            assert pipe.vae.config.latent_channels == 16 and pipe.vae.config.scaling_factor == 0.3611
            assert pipe.text_encoder_2.config.d_model == 4096 and pipe.text_encoder_2.config.num_layers == 24
        elif op_id == "select":
            expected = EXPECTED[(op_id, model_id)]
            assert pipe.size == expected["square"]
            if model_id == SAM3:
                assert pipe.model.config.vision_config.backbone_config.num_hidden_layers == 32
        elif op_id == "upscale":
            assert pipe.model.config.depths == [6] * 6 and pipe.model.config.embed_dim == 180
        else:
            expected = EXPECTED[(op_id, model_id)]
            assert type(pipe).__name__ == expected["pipeline"]
            assert pipe.unet.dtype == torch.float16 and pipe.unet.config.layers_per_block == 2
            assert pipe.unet.config.in_channels == expected["in_channels"]
            assert pipe.vae.config.scaling_factor == 0.18215 and pipe.text_encoder.config.num_hidden_layers == 12
        prepared = op.prepare(request, model, 3, WORKING)
        outputs = op.forward(model, [prepared], lambda done, total: steps.append((done, total)))
        result = op.finish(prepared, outputs[0])
    assert steps and steps[-1][0] == steps[-1][1]
    assert result.size == op.output_size(request) and result.mode == (op.output_mode or "RGB")
    del models, model, pipe
    gc.collect()  # the next case builds on the GPU: this one's weights must be gone
    torch.cuda.empty_cache()
    cached = os.environ.get("STUDIO_REAL_SIZE_CACHE")
    if model_id in LARGE and not cached and (op_id, model_id) == last_case_of(model_id):
        shutil.rmtree(folder, ignore_errors=True)  # the disk holds one large build at a time


def last_case_of(model_id: str) -> tuple[str, str]:
    return [case for case in CASES if case[1] == model_id][-1]


def test_out_of_memory_retries_once_with_real_model_cpu_offload(built, tmp_path, monkeypatch):
    """The forward pass runs out of GPU memory once: EditService switches the real SD 1.5 pipeline to
    model CPU offload (diffusers' enable_model_cpu_offload, for real) and the retry succeeds."""
    folder = built(SD15)
    op = OPERATIONS["restyle"]
    models = manager(tmp_path, cpu_offload="never", restyle_model=str(folder))
    service = EditService(models.settings, models, DeviceQueue(1), usage=None)
    real_forward = op.forward
    calls: list[str] = []

    def forward(model, batch, on_step):
        calls.append(model.placement)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_forward(model, batch, on_step)

    monkeypatch.setattr(op, "forward", forward)
    request = request_for("restyle", SIZE)
    result = service.run(request)
    assert result.image.size == SIZE and result.weights == "real"
    assert calls == ["device", "offload"]  # the retry ran offloaded
    spec = models.spec(op, str(folder))
    with models.use(spec) as model:
        assert model.placement == "offload" and not models.can_offload(model)
        assert model.pipe.unet.device.type == "cpu"  # between runs, offloaded modules wait on the CPU
        assert hasattr(model.pipe.unet, "_hf_hook")  # accelerate's hook moves it to the GPU when called


def test_model_cpu_offload_forced_by_the_setting_runs_an_edit(built, tmp_path):
    """CPU_OFFLOAD=always: the real SD 1.5 pipeline loads with diffusers' enable_model_cpu_offload from the
    start (as on a GPU too small for it) and an edit completes through the service."""
    folder = built(SD15)
    op = OPERATIONS["restyle"]
    models = manager(tmp_path, cpu_offload="always", restyle_model=str(folder))
    service = EditService(models.settings, models, DeviceQueue(1), usage=None)
    result = service.run(request_for("restyle", SIZE))
    assert result.image.size == SIZE and result.weights == "real"
    with models.use(models.spec(op, str(folder))) as model:
        assert model.placement == "offload" and hasattr(model.pipe.unet, "_hf_hook")
        assert model.pipe.unet.device.type == "cpu"  # between runs the modules wait on the CPU


def test_compile_is_warmed_up_per_bucket_with_inductor_and_an_edit_after_compiles_nothing(built, tmp_path,
                                                                                         monkeypatch):
    """ACCELERATIONS=compile on the real SD 1.5 UNet with inductor (what tests/pipelines/test_compile_warmup.py
    checks with a counting backend on the CPU): the warm-up at load compiles each size bucket, and a visitor's
    edit of another size afterwards adds no graph. Two buckets keep it to a minute or two."""
    from torch._dynamo.utils import counters

    from pipelines import geometry

    monkeypatch.setattr(geometry, "BUCKET_ASPECTS", (1.0, 4 / 3))
    torch._dynamo.reset()
    folder = built(SD15)
    op = OPERATIONS["restyle"]
    models = manager(tmp_path, accelerations=["compile"], cpu_offload="never", restyle_model=str(folder),
                     max_working_pixels=SIZE[0] * SIZE[1])
    service = EditService(models.settings, models, DeviceQueue(1), usage=None)
    service.preload(op.id).join()
    spec = models.spec(op, str(folder))
    with models.use(spec) as model:
        assert model.compiled and len(model.warmed_up) == 2
    graphs = counters["stats"]["unique_graphs"]
    assert graphs > 0
    for size in [(500, 380), (300, 300)]:
        assert service.run(request_for("restyle", size)).image.size == size
    assert counters["stats"]["unique_graphs"] == graphs
    torch._dynamo.reset()
