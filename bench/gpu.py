"""GPU benchmark: each operation's default model at real size with random weights, bare and accelerated.

Random weights at real size (pipelines/real_size.py), so it runs on any GPU with no download: speed
does not depend on weight values. For each model and size it measures seconds per edit, denoiser
steps per second, peak memory, and the denoiser's share of the device's bf16 FLOP bound (FLOPs of
one denoiser call from torch.utils.flop_counter × calls ÷ denoiser seconds ÷ the device's peak), for
bare diffusers (bf16, nothing else) and for each acceleration alone and all of ACCELERATIONS=auto
together. A variant that compiles is warmed up first, as the app does at start (pipelines/warmup.py):
its warm-up seconds are a column of their own, and its first edit after that is compared with the tenth.
A second table times select's SAM 2.1 small: the first click (the picture's embedding) and each further
click (the mask decoder alone).

Which model is an operation's default depends on the device (pipelines/device.py), so both are rows, each
saying where it is the default: on a CUDA GPU with at least 16 GB, FLUX.2 [klein] 4B edits (Flux2KleinPipeline)
and inpaints and outpaints (Flux2KleinInpaintPipeline on the same weights); on the CPU and smaller GPUs,
InstructPix2Pix and SD 1.5 inpainting do. Compose (klein, one picture and four) and the choices FLUX.1 Kontext
and Qwen-Image-Edit-2511 are rows too. Each model runs its own number of steps (klein 4, Qwen 40, ...), so
seconds per edit is an edit's as the app runs it.

    .venv/bin/python -m bench.gpu            # on a GPU: 512² and 1024², full depth
    .venv/bin/python -m bench.gpu --quick    # anywhere, in about a minute: reduced depth, 64², CPU

`--quick` checks the benchmark itself (CI runs it); its numbers say nothing about a GPU. klein and Qwen are
too large for it even at one layer per block (their text encoders keep a real vocabulary and width):
tests/bench/test_gpu.py runs this module's calls, denoiser clock and FLOP count for their pipeline classes
on the tiny stand-ins instead.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import table

# Dense bf16 tensor-core peaks (TFLOP/s, the datasheets' figures without sparsity), by the device name torch
# reports, the first key found in it; fp16 for T4 (no bf16). A10G: the A10's figure (its AWS variant).
PEAK_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0,
               "L4": 121.0, "T4": 65.0}
SMALL = "CPU, GPU < 16 GB"  # where each operation's default is its small model (pipelines/device.py)
LARGE = "CUDA GPU ≥ 16 GB"
EVERYWHERE = "every device"
CHOICE = "none (a choice)"


@dataclass(frozen=True)
class Case:
    """One row's model: its config in pipelines/configs/ and how the app calls it."""

    operation: str
    config: str
    default_on: str  # the devices on which the app picks this model when the operator has not chosen one
    steps: int  # the model's own number of steps (the app's default), so seconds per edit is an edit's
    pipeline: str | None = None  # another pipeline class on the config's components, as from_pipe shares them
    pictures: int = 1  # compose: the edited picture and its references

    @property
    def label(self) -> str:
        if self.operation == "compose":
            return f"compose ({self.pictures} picture{'s' if self.pictures > 1 else ''})"
        return self.operation


# bf16 weights at full depth (python -m pipelines.real_size): SD 1.5 about 2 GB; FLUX.2 [klein] 4B 16.0 GB
# (transformer 7.8, Qwen3 text encoder 8.0, VAE 0.2), so klein with its text encoder beside it fits any
# 24 GB GPU with room for 1024² activations; Qwen-Image-Edit-2511 57.7 GB (transformer 40.9, Qwen2.5-VL text
# encoder 16.6, VAE 0.3): it fits one 80 GB H100 with about 20 GB for activations, not a 48 GB card. Each row
# builds its model on the GPU in bf16 (seconds) and frees it before the next, so no two are resident at once.
KLEIN = "flux2-klein-4b"
QWEN_EDIT = "qwen-image-edit-2511"
CASES = (
    Case("instruct_edit", "sd15-pix2pix", SMALL, 20),
    Case("instruct_edit", KLEIN, LARGE, 4),
    Case("inpaint", "sd15-inpaint", SMALL, 25),  # outpaint: the same pipeline and default as inpaint
    Case("inpaint", KLEIN, LARGE, 4, pipeline="Flux2KleinInpaintPipeline"),
    Case("compose", KLEIN, EVERYWHERE, 4, pictures=1),
    Case("compose", KLEIN, EVERYWHERE, 4, pictures=4),
    Case("restyle", "sd15", EVERYWHERE, 30, pipeline="StableDiffusionImg2ImgPipeline"),  # as AutoPipeline picks
    Case("upscale", "swin2sr-x2", EVERYWHERE, 1),  # one forward pass, no steps
)
EXTRA = (  # selectable; full runs only
    Case("instruct_edit", "flux1-kontext", CHOICE, 28),
    Case("instruct_edit", QWEN_EDIT, CHOICE, 40),  # true CFG: two denoiser calls a step
)
FLOPS: dict[tuple[Case, int], float | None] = {}  # FLOPs of one denoiser call, per case and size
SELECT = "sam2.1-hiera-small"  # select's clicks: the picture embedded once, then the mask decoder per click
CLICKS = 10


@dataclass
class Plan:
    depth: str
    device: str
    sizes: tuple[int, ...]
    steps: int | None  # None: each case's own
    repeats: int
    variants: tuple[str, ...]
    cases: tuple[Case, ...]


def plan(quick: bool) -> Plan:
    if quick:
        return Plan("reduced", "cpu", (64,), 2, 2, ("bare", "fuse_qkv"),
                    tuple(case for case in CASES if case.config in ("sd15-pix2pix", "swin2sr-x2")))
    from pipelines.acceleration import TECHNIQUES

    return Plan("full", "cuda", (512, 1024), None, 3, ("bare", *TECHNIQUES, "auto"), (*CASES, *EXTRA))


def peak_tflops(device: str) -> float | None:
    if device != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name()
    return next((peak for key, peak in PEAK_TFLOPS.items() if key in name), None)


def for_case(pipe: Any, case: Case) -> Any:
    """The pipeline a case runs: the config's own, or another class on the same components (klein inpaint)."""
    if case.pipeline is None or isinstance(pipe, tuple):
        return pipe
    import diffusers

    return getattr(diffusers, case.pipeline).from_pipe(pipe)


def pictures_for(size: int, count: int) -> list[Any]:
    """`count` pictures of size × size, each a different grey (references alike would be one picture twice)."""
    from PIL import Image

    return [Image.new("RGB", (size, size), (128 - 20 * index,) * 3) for index in range(count)]


def mask_for(size: int) -> Any:
    """The middle quarter of the picture brushed."""
    from PIL import Image

    mask = Image.new("L", (size, size), 0)
    mask.paste(255, (size // 4, size // 4, size * 3 // 4, size * 3 // 4))
    return mask


def call_for(pipe: Any, size: int, steps: int, pictures: int = 1) -> Callable[[], Any]:
    """One bare edit with the pipeline's own call, on grey pictures of size × size, at its family's guidance
    (pipelines/ops/instruct_edit.py FAMILIES); `pictures` > 1 only for pipelines that take references."""
    import torch

    first, *_ = images = pictures_for(size, pictures)
    if isinstance(pipe, tuple):  # Swin2SR: (model, processor)
        model, processor = pipe
        pixels = processor(first, return_tensors="pt").pixel_values.to(model.device, model.dtype)
        return lambda: model(pixel_values=pixels)
    generator = torch.Generator("cpu").manual_seed(0)
    common = {"prompt": "make it snowy", "num_inference_steps": steps, "output_type": "pil", "generator": generator}
    name = type(pipe).__name__
    if pictures > 1 and name not in ("Flux2KleinPipeline", "QwenImageEditPlusPipeline"):
        raise ValueError(f"{name} takes one picture, not {pictures}")
    if name in ("StableDiffusionInpaintPipeline", "Flux2KleinInpaintPipeline"):
        extra = {"strength": 1.0, "guidance_scale": 1.0} if name.startswith("Flux2") else {}  # distilled: as the app
        mask = mask_for(size)
        return lambda: pipe(image=first, mask_image=mask, height=size, width=size, **extra, **common)
    if name == "StableDiffusionImg2ImgPipeline":
        return lambda: pipe(image=first, strength=1.0, **common)  # strength 1: every step runs
    if name == "FluxKontextPipeline":
        return lambda: pipe(image=first, height=size, width=size, max_area=size * size, _auto_resize=False,
                            **common)
    if name == "Flux2KleinPipeline":  # a list of references for one prompt (compose: the edited picture first)
        return lambda: pipe(image=images, height=size, width=size, guidance_scale=1.0, **common)
    if name == "QwenImageEditPlusPipeline":  # true CFG with a blank negative prompt, as the model card calls it
        return lambda: pipe(image=images, height=size, width=size, true_cfg_scale=4.0, negative_prompt=" ", **common)
    if name == "StableDiffusionInstructPix2PixPipeline":
        return lambda: pipe(image=first, **common)
    raise ValueError(f"bench.gpu does not know how to call {name}")


def denoiser(pipe: Any) -> Any | None:
    """The module a pipeline calls once per step (or twice, with true CFG): its transformer or UNet."""
    if isinstance(pipe, tuple):
        return None
    found = getattr(pipe, "transformer", None)
    return found if found is not None else pipe.unet


class DenoiserClock:
    """Seconds spent in the denoiser and how many calls, through forward hooks (synchronised on CUDA)."""

    def __init__(self, pipe: Any, device: str) -> None:
        self.seconds, self.calls, self._started = 0.0, 0, 0.0
        self.device = device
        self.module = denoiser(pipe)
        if self.module is not None:
            self.module.register_forward_pre_hook(self._before)
            self.module.register_forward_hook(self._after)

    def _sync(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def _before(self, *_args: Any) -> None:
        self._sync()
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self._sync()
        self.seconds += time.perf_counter() - self._started
        self.calls += 1

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


def flops_per_call(pipe: Any, run: Callable[[], Any]) -> float | None:
    """FLOPs of one denoiser call, counted over one edit (all calls) and divided by the calls."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module = denoiser(pipe)
    if module is None:
        return None
    counted = {"flops": 0, "calls": 0}
    counter = FlopCounterMode(display=False)

    def before(*_args: Any) -> None:
        counter.__enter__()

    def after(*_args: Any) -> None:
        counter.__exit__(None, None, None)
        counted["flops"] += counter.get_total_flops()
        counted["calls"] += 1

    handles = [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return counted["flops"] / counted["calls"] if counted["calls"] else None


def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def measure(case: Case, variant: str, size: int, settings: Plan) -> list[object]:
    import torch

    from pipelines import real_size
    from pipelines.acceleration import accelerate, resolve

    name, steps = case.config, settings.steps or case.steps
    dtype = torch.bfloat16 if settings.device == "cuda" else torch.float32
    pipe = for_case(real_size.instantiate(name, depth=settings.depth, dtype=dtype, device=settings.device), case)
    if not isinstance(pipe, tuple):
        pipe.set_progress_bar_config(disable=True)
    techniques = () if variant == "bare" else resolve([variant], settings.device)
    applied = accelerate(pipe, techniques, settings.device) if not isinstance(pipe, tuple) else []
    if techniques and not applied:
        return [name, size, variant, steps, "does not apply", "", "", "", "", ""]
    run = call_for(pipe, size, steps, case.pictures)
    shown_steps = "" if isinstance(pipe, tuple) else steps  # an upscaler: one forward pass
    warm_up_s = ""
    if "compile" in applied:  # as at the app's start: one edit at this size compiles it (this size is its bucket)
        started = time.perf_counter()
        with torch.no_grad():
            call_for(pipe, size, 1, case.pictures)()
        warm_up_s = f"{time.perf_counter() - started:.1f}"
    clock = DenoiserClock(pipe, settings.device)
    if settings.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    with torch.no_grad():
        for _ in range(10 if variant == "auto" else settings.repeats):  # auto: the first edit against the tenth
            started = time.perf_counter()
            run()
            if settings.device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
            if len(times) == 1:
                clock.reset()  # steps/s from warm edits only
    warm = times[1:] or times
    # steps, not calls: Qwen's true CFG calls the denoiser twice a step (SD and FLUX batch or distil it into one)
    steps_per_s = (len(times) - 1) * steps / clock.seconds if clock.seconds else None
    # counted once, uncompiled (a counting mode around compiled blocks would make them compile again);
    # the accelerations change how fast the same arithmetic runs, not how much of it there is
    if variant == "bare" or (case, size) not in FLOPS:
        FLOPS[(case, size)] = flops_per_call(pipe, run)
    flops = FLOPS[(case, size)]
    peak = peak_tflops(settings.device)
    share = (flops * clock.calls / clock.seconds / (peak * 1e12)) if flops and peak and clock.seconds else None
    first_vs_tenth = f"{times[0] / times[9]:.2f}" if len(times) >= 10 else ""
    del pipe, run, clock
    _free(settings.device)
    return [name, size, variant, shown_steps, f"{statistics.median(warm):.3f}",
            f"{steps_per_s:.2f}" if steps_per_s else "", f"{peak_memory_mb(settings.device):.0f}",
            f"{share:.0%}" if share is not None else "n/a", warm_up_s, first_vs_tenth]


def measure_clicks(settings: Plan) -> list[object]:
    """SAM 2.1 small as the Select tool runs it: one image embedding (the first click), then further clicks
    that run only the prompt encoder and mask decoder on the kept embedding, each to a mask at picture size."""
    import torch
    from PIL import Image

    from pipelines import real_size
    from pipelines.segmenting import SAM2, Segmenter, decode, embed

    if settings.device == "cuda":
        model, _processor = real_size.instantiate(SELECT, depth=settings.depth, dtype=torch.bfloat16, device="cuda")
        name = f"{SELECT} ({settings.depth})"
    else:  # --quick: the tiny stand-in (the real width at 1024² takes minutes on two CPU cores)
        import tempfile

        from transformers import Sam2Model

        from pipelines import tiny

        with tempfile.TemporaryDirectory(prefix="studio-bench-gpu-quick-") as folder:  # loaded, then gone
            model, name = Sam2Model.from_pretrained(tiny.ensure("sam2", Path(folder))), "sam2 tiny (quick)"
    segmenter = Segmenter(model.eval(), SAM2, model.config.prompt_encoder_config.image_size)
    picture = Image.new("RGB", (1024, 768), (128, 128, 128))

    def timed_ms(work: Callable[[], Any]) -> tuple[float, Any]:
        started = time.perf_counter()
        result = work()
        if settings.device == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - started) * 1000, result

    if settings.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    embed(segmenter, picture)  # warm-up: kernels chosen, memory allocated
    first_ms, embedding = timed_ms(lambda: embed(segmenter, picture))
    clicks = [(100.0 + 60 * i, 300.0, 1) for i in range(CLICKS)]
    further = [timed_ms(lambda n=n: decode(segmenter, embedding, tuple(clicks[: n + 1]), None))[0]
               for n in range(CLICKS)]
    row = [name, f"{first_ms:.1f}", f"{statistics.median(further):.1f}",
           f"{max(further):.1f}", f"{embedding.nbytes / 2**20:.3f}", f"{peak_memory_mb(settings.device):.0f}"]
    return row  # the model goes with this frame; the caller frees its memory


def _free(device: str) -> None:
    import gc

    import torch._dynamo

    torch._dynamo.reset()  # each variant compiles afresh, within its own recompile limit
    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced depth at 64² on the CPU, in about a minute")
    args = parser.parse_args(argv)
    settings = plan(args.quick)
    if settings.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return "bench.gpu: no CUDA device here; `--quick` checks the benchmark on the CPU"
        device = torch.cuda.get_device_name()
    else:
        device = "CPU (quick check: these numbers say nothing about a GPU)"
    rows = []
    for case in settings.cases:
        upscaler = case.config.startswith("swin2sr")
        for size in settings.sizes if not upscaler else settings.sizes[:1]:
            for variant in settings.variants if not upscaler else ("bare",):
                rows.append([case.label, case.default_on, *measure(case, variant, size, settings)])
    headers = ["operation", "default on", "config", "size", "variant", "steps", "s per edit", "denoiser steps/s",
               "peak MB (CPU: RSS)", "share of bf16 peak", "warm-up s (at start)", "first ÷ tenth"]
    click_row = measure_clicks(settings)
    _free(settings.device)
    clicks = ["select model", "first click: embed ms", "further click ms (median)", "further click ms (max)",
              "embedding MB", "peak MB (CPU: RSS)"]
    steps = f"{settings.steps} steps" if settings.steps else "each model's own steps"
    return (f"bench.gpu on {device}: {settings.depth} depth, {steps}, random weights\n"
            + table(headers, rows)
            + f"\n\nselect on {device}: a 1024×768 picture embedded once, then {CLICKS} further clicks "
              "(target on a GPU: a further click ≤ 50 ms)\n"
            + table(clicks, [click_row]))


if __name__ == "__main__":
    print(main(sys.argv[1:]))
    sys.exit(0)
