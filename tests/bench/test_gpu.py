"""`python -m bench.gpu --quick` (CI): the GPU benchmark runs end to end on the CPU at reduced depth, so a
GPU run finds it working; every quick case and variant gives a row of numbers, and select's clicks one.
The large GPU defaults (FLUX.2 [klein], Qwen-Image-Edit-2511) run the benchmark's own call, denoiser clock
and FLOP count on their tiny stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

from bench import gpu
from pipelines import real_size
from pipelines.models import ModelManager
from pipelines.ops.instruct_edit import KLEIN, QWEN_EDIT
from pipelines.registry import OPERATIONS
from tests.conftest import make_settings


def test_the_quick_gpu_benchmark_measures_every_case_on_the_cpu():
    report = gpu.main(["--quick"])
    edits, clicks = report.split("\n\n")
    rows = [line.split("|")[1:-1] for line in edits.splitlines() if line.startswith("| ") and "operation" not in line]
    cells = [[cell.strip() for cell in row] for row in rows]
    quick = gpu.plan(quick=True)
    expected = {(case.label, case.config, variant) for case in quick.cases
                for variant in (quick.variants if not case.config.startswith("swin2sr") else ("bare",))}
    assert {(row[0], row[2], row[4]) for row in cells} == expected
    for row in cells:
        assert float(row[6]) > 0  # seconds per edit
        assert row[4] == "bare" or row[6] != "does not apply"
    denoised = [row for row in cells if row[2] == "sd15-pix2pix"]
    assert all(row[1] == gpu.SMALL for row in denoised)  # InstructPix2Pix: the default without a large GPU
    assert all(float(row[7]) > 0 for row in denoised)  # denoiser steps per second, from the warm edit
    (click_row,) = [[cell.strip() for cell in line.split("|")[1:-1]] for line in clicks.splitlines()
                    if line.startswith("| sam2")]
    assert click_row[0] == "sam2 tiny (quick)"
    assert all(float(cell) > 0 for cell in click_row[1:])  # first click, further clicks, embedding MB, peak MB


def test_without_cuda_the_full_benchmark_says_so_instead_of_failing(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on any machine without a GPU
    assert "no CUDA device" in gpu.main([])


# ------------------------------------------------------------------ the large GPU defaults, on their stand-ins
# FLUX.2 [klein] and Qwen-Image-Edit-2511 are too large for `--quick` even at one layer per block, so the GPU
# benchmark's code for their pipeline classes runs here on the tiny stand-ins, loaded as the app loads them.

STAND_INS = {gpu.KLEIN: KLEIN, gpu.QWEN_EDIT: QWEN_EDIT}  # config -> the model id whose stand-in runs it
LARGE = [case for case in gpu.plan(quick=False).cases if case.config in STAND_INS]
SIDE = 64  # klein takes references of at least 64 px a side
STEPS = 2


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory, tiny_models) -> dict[str, Any]:
    models = ModelManager(make_settings(tmp_path_factory.mktemp("bench-gpu"), tiny_models, device="cpu"))
    pipes = {}
    for config, model_id in STAND_INS.items():
        with models.use(models.spec(OPERATIONS["instruct_edit"], model_id)) as model:
            pipes[config] = model.pipe
            pipes[config].set_progress_bar_config(disable=True)
    return pipes


def test_the_full_plan_has_a_row_for_each_default_on_each_device_and_for_compose():
    full = gpu.plan(quick=False).cases
    rows = {(case.operation, case.config, case.pipeline, case.pictures, case.default_on) for case in full}
    assert {("instruct_edit", "sd15-pix2pix", None, 1, gpu.SMALL), ("instruct_edit", gpu.KLEIN, None, 1, gpu.LARGE),
            ("inpaint", "sd15-inpaint", None, 1, gpu.SMALL),
            ("inpaint", gpu.KLEIN, "Flux2KleinInpaintPipeline", 1, gpu.LARGE),
            ("compose", gpu.KLEIN, None, 1, gpu.EVERYWHERE), ("compose", gpu.KLEIN, None, 4, gpu.EVERYWHERE),
            ("instruct_edit", gpu.QWEN_EDIT, None, 1, gpu.CHOICE)} <= rows
    assert len({(case.label, case.config, case.pipeline) for case in full}) == len(full)  # every row its own
    assert {case.config for case in full} <= set(real_size.names())  # each built from pipelines/configs/


def test_every_row_of_the_full_plan_builds_its_pipeline_and_gets_a_call_it_knows():
    """At full depth on the meta device (every shape, no weights): the class each row runs and its denoiser."""
    for case in gpu.plan(quick=False).cases:
        pipe = gpu.for_case(real_size.instantiate(case.config, depth="full", device="meta"), case)
        gpu.call_for(pipe, 1024, case.steps, case.pictures)  # refuses a class it has no call for
        if case.config.startswith("swin2sr"):
            continue
        assert type(pipe).__name__ == (case.pipeline or real_size.config(case.config)["pipeline"])
        assert gpu.denoiser(pipe) is getattr(pipe, "transformer", None) or gpu.denoiser(pipe) is pipe.unet


@pytest.mark.parametrize("case", LARGE, ids=lambda case: f"{case.label}-{case.config}-{case.pipeline or 'own'}")
def test_the_bench_calls_clocks_and_counts_each_large_model_on_its_stand_in(stand_ins, case):
    pipe = gpu.for_case(stand_ins[case.config], case)
    assert type(pipe).__name__ == (case.pipeline or real_size.config(case.config)["pipeline"])
    run = gpu.call_for(pipe, SIDE, STEPS, case.pictures)
    clock = gpu.DenoiserClock(pipe, "cpu")
    assert clock.module is pipe.transformer
    outputs = []
    flops = gpu.flops_per_call(pipe, lambda: outputs.append(run()))  # one edit, clocked and counted at once
    assert flops is not None and flops > 0
    (image,) = outputs[0].images
    assert image.size == (SIDE, SIDE)
    per_step = 2 if case.config == gpu.QWEN_EDIT else 1  # Qwen's true CFG: the denoiser twice a step
    assert clock.calls == STEPS * per_step and clock.seconds > 0


def test_compose_with_four_pictures_gives_the_denoiser_more_work_than_with_one(stand_ins):
    pipe = stand_ins[gpu.KLEIN]
    one, four = (gpu.flops_per_call(pipe, gpu.call_for(pipe, SIDE, 1, count)) for count in (1, 4))
    assert four > one  # the references are in the denoiser's sequence, so the benchmark measures them


def test_a_pipeline_that_takes_one_picture_is_not_given_four(stand_ins):
    inpaint = gpu.for_case(stand_ins[gpu.KLEIN], gpu.Case("inpaint", gpu.KLEIN, gpu.LARGE, 4,
                                                          pipeline="Flux2KleinInpaintPipeline"))
    with pytest.raises(ValueError, match="takes one picture"):
        gpu.call_for(inpaint, SIDE, 1, 4)
