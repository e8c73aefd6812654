"""What a run measured, with no network: its time, the denoiser's speed, peak memory, and how much of the
picture that should have stayed the same did change (PSNR and SSIM against the input).

The speed and memory are taken around the device work (`timed`), for the whole batch the item ran in;
the comparison is numpy on the CPU, after the run (`unchanged`). Where comparing makes no sense (a
cut-out), the value is null with the reason beside it. The CLIP direction is pipelines/clip_score.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import psutil
from PIL import Image

from pipelines.images import flatten

if TYPE_CHECKING:
    from pipelines.base import EditRequest, Operation, Prepared
    from pipelines.batcher import BatchWork

COMPARE_MAX_PIXELS = 1_000_000  # larger pictures are compared at this size: at 4 MP the comparison took
# 1.6 s and 0.5 GB after every large run, at 1 MP 0.12 s and 130 MB (SSIM is usually taken on downscaled pictures)
SSIM_WINDOW = 7  # a box window, as in Wang et al.'s fast variant
SSIM_C1, SSIM_C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

WHOLE = "the whole picture"
UNPAINTED = "outside the painted area"
ORIGINAL = "the original picture's area"
AT_INPUT_SIZE = "the whole picture, at the input's size"


def timed(work: BatchWork, *, gpu: bool) -> BatchWork:
    """`work`, measuring the batch on the device: steps and their rate, and peak memory (the GPU's where the
    work runs on CUDA in this process, else this process's memory, sampled at each step). Each item of the
    batch gets the numbers in its `measured`."""

    def run(items: list[Prepared], on_step: Callable[[int, int], None]) -> list[Any]:
        process = psutil.Process()
        steps: list[float] = []
        peak_rss = [process.memory_info().rss]
        if gpu:
            import torch

            torch.cuda.reset_peak_memory_stats()

        def step(done: int, total: int) -> None:
            steps.append(time.perf_counter())
            if not gpu:
                peak_rss.append(process.memory_info().rss)
            on_step(done, total)

        started = time.perf_counter()
        outputs = work(items, step)
        finished = time.perf_counter()
        if gpu:
            import torch

            memory = {"peak_memory_bytes": int(torch.cuda.max_memory_allocated()), "peak_memory_of": "gpu"}
        else:
            peak_rss.append(process.memory_info().rss)
            memory = {"peak_memory_bytes": max(peak_rss), "peak_memory_of": "process"}
        numbers = {"device_s": round(finished - started, 4), "steps": len(steps),
                   "steps_per_s": _rate(steps, started), "batch_size": len(items), **memory}
        for item in items:
            item.measured.update(numbers)
        return outputs

    return run


def _rate(steps: list[float], started: float) -> float | None:
    """Steps per second between the first and the last step (the denoiser alone, without the text encoder
    before it); with one step, from the start of the work. None when no step was reported (ZeroGPU)."""
    if not steps:
        return None
    if len(steps) == 1:
        return round(1 / max(steps[0] - started, 1e-9), 3)
    return round((len(steps) - 1) / max(steps[-1] - steps[0], 1e-9), 3)


def unchanged(op: Operation, request: EditRequest, output: Image.Image) -> dict[str, Any]:
    """How much of the picture outside the edited region changed: PSNR (dB) and SSIM (luminance) of that area
    of the result against the input, with which area it was and at what size."""
    if not op.compares_to_input:
        return {"area": None, "psnr_db": None, "ssim": None, "reason": op.text("not_compared")}
    scale = min(1.0, math.sqrt(COMPARE_MAX_PIXELS / (request.image.width * request.image.height)))
    size = (max(1, int(request.image.width * scale)), max(1, int(request.image.height * scale)))
    before = flatten(request.image)
    if before.size != size:
        before = before.resize(size, Image.Resampling.BOX)
    after = _input_area(op, request, output, size)
    where, area = None, WHOLE
    if op.masked and request.mask is not None:
        where = np.asarray(request.mask.convert("L").resize(size, Image.Resampling.NEAREST)) < 128
        area = UNPAINTED
    elif op.placement(request) != (0.0, 0.0, 1.0, 1.0):
        area = ORIGINAL
    elif output.size != request.image.size:
        area = AT_INPUT_SIZE
    if where is not None and not where.any():
        return {"area": area, "psnr_db": None, "ssim": None, "reason": "The whole picture was painted over."}
    a, b = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    value = psnr(a, b, where)
    return {
        "area": area,
        "compared_at": list(before.size),
        "psnr_db": None if math.isinf(value) else round(value, 3),
        "ssim": round(ssim(luminance(a), luminance(b), where), 5),
        "identical": math.isinf(value),
    }


def _input_area(op: Operation, request: EditRequest, output: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The part of the result where the input sits (an extension's middle, an upscale), at `size`: the input's
    size or, for a large input, the size it is compared at (scaled once, never up to the input's size first)."""
    x, y, w, h = op.placement(request)
    box = (round(x * output.width), round(y * output.height),
           round((x + w) * output.width), round((y + h) * output.height))
    area = flatten(output if box == (0, 0, *output.size) else output.crop(box))
    return area if area.size == size else area.resize(size, Image.Resampling.LANCZOS)


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB over the pixels `where` is true (all when None); inf when identical."""
    squared = (a - b) ** 2
    if squared.ndim == 3:
        squared = squared.mean(axis=2)
    mse = float(squared[where].mean() if where is not None else squared.mean())
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, as SSIM is usually taken on."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def ssim(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None, window: int = SSIM_WINDOW) -> float:
    """Mean structural similarity of two luminance images, over the windows centred where `where` is true.

    Box windows (means by summed-area tables), reflected at the edges; 1.0 means identical.
    """
    pad = window // 2
    mu_a, mu_b = _box_mean(a, window, pad), _box_mean(b, window, pad)
    var_a = _box_mean(a * a, window, pad) - mu_a**2
    var_b = _box_mean(b * b, window, pad) - mu_b**2
    cov = _box_mean(a * b, window, pad) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)) / (
        (mu_a**2 + mu_b**2 + SSIM_C1) * (var_a + var_b + SSIM_C2))
    return float(index[where].mean() if where is not None else index.mean())


def _box_mean(image: np.ndarray, window: int, pad: int) -> np.ndarray:
    padded = np.pad(image, pad, mode="reflect") if min(image.shape) > pad else np.pad(image, pad, mode="edge")
    table = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    table[1:, 1:] = padded.cumsum(axis=0).cumsum(axis=1)
    height, width = image.shape
    sums = (table[window:window + height, window:window + width] - table[:height, window:window + width]
            - table[window:window + height, :width] + table[:height, :width])
    return sums / (window * window)
