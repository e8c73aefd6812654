"""GPU benchmark: each operation's default model at real size with random weights, bare and accelerated.

Random weights at real size (pipelines/real_size.py), so it runs on any GPU with no download: speed
does not depend on weight values. For each model and size it measures seconds per edit, denoiser
steps per second, peak memory, and the denoiser's share of the device's bf16 FLOP bound (FLOPs of
one denoiser call from torch.utils.flop_counter × calls ÷ denoiser seconds ÷ the device's peak), for
bare diffusers (bf16, nothing else) and for each acceleration alone and all of ACCELERATIONS=auto
together; the first edit after loading is compared with the tenth. A second table times select's SAM 2.1
small: the first click (the picture's embedding) and each further click (the mask decoder alone).

    .venv/bin/python -m bench.gpu            # on a GPU: 512² and 1024², full depth
    .venv/bin/python -m bench.gpu --quick    # anywhere, in about a minute: reduced depth, 64², CPU

`--quick` checks the benchmark itself (CI runs it); its numbers say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import table

# Dense bf16 tensor-core peaks (TFLOP/s), by the device name torch reports; fp16 for T4.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "L4": 121.0, "T4": 65.0}
CASES = {  # operation: (the config of its default model, a call of the bare pipeline)
    "instruct_edit": "sd15-pix2pix",
    "inpaint": "sd15-inpaint",
    "restyle": "sd15",
    "upscale": "swin2sr-x2",
}
EXTRA = {"instruct_edit (FLUX.1 Kontext)": "flux1-kontext"}  # selectable; full runs only
SELECT = "sam2.1-hiera-small"  # select's clicks: the picture embedded once, then the mask decoder per click
CLICKS = 10


@dataclass
class Plan:
    depth: str
    device: str
    sizes: tuple[int, ...]
    steps: int
    repeats: int
    variants: tuple[str, ...]
    cases: dict[str, str]


def plan(quick: bool) -> Plan:
    if quick:
        return Plan("reduced", "cpu", (64,), 2, 2, ("bare", "channels_last", "fuse_qkv"),
                    {"instruct_edit": CASES["instruct_edit"], "upscale": CASES["upscale"]})
    from pipelines.acceleration import TECHNIQUES

    return Plan("full", "cuda", (512, 1024), 28, 3, ("bare", *TECHNIQUES, "auto"), {**CASES, **EXTRA})


def peak_tflops(device: str) -> float | None:
    if device != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name()
    return next((peak for key, peak in PEAK_TFLOPS.items() if key in name), None)


def call_for(pipe: Any, size: int, steps: int) -> Callable[[], Any]:
    """One bare edit with the pipeline's own call, on a grey picture of size × size."""
    import torch
    from PIL import Image

    picture = Image.new("RGB", (size, size), (128, 128, 128))
    if isinstance(pipe, tuple):  # Swin2SR: (model, processor)
        model, processor = pipe
        pixels = processor(picture, return_tensors="pt").pixel_values.to(model.device, model.dtype)
        return lambda: model(pixel_values=pixels)
    generator = torch.Generator("cpu").manual_seed(0)
    common = {"prompt": "make it snowy", "num_inference_steps": steps, "output_type": "pil", "generator": generator}
    name = type(pipe).__name__
    if name == "StableDiffusionInpaintPipeline":
        mask = Image.new("L", (size, size), 0)
        mask.paste(255, (size // 4, size // 4, size * 3 // 4, size * 3 // 4))
        return lambda: pipe(image=picture, mask_image=mask, height=size, width=size, **common)
    if name == "StableDiffusionImg2ImgPipeline":
        return lambda: pipe(image=picture, strength=1.0, **common)  # strength 1: every step runs
    if name == "FluxKontextPipeline":
        return lambda: pipe(image=picture, height=size, width=size, max_area=size * size, _auto_resize=False,
                            **common)
    return lambda: pipe(image=picture, **common)


class DenoiserClock:
    """Seconds spent in the denoiser and how many calls, through forward hooks (synchronised on CUDA)."""

    def __init__(self, pipe: Any, device: str) -> None:
        self.seconds, self.calls, self._started = 0.0, 0, 0.0
        self.device = device
        self.module = None if isinstance(pipe, tuple) else (getattr(pipe, "transformer", None) or pipe.unet)
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


def flops_per_call(pipe: Any, run: Callable[[], Any], steps: int) -> float | None:
    """FLOPs of one denoiser call, counted over one edit (all calls) and divided by the calls."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    if isinstance(pipe, tuple):
        return None
    denoiser = getattr(pipe, "transformer", None) or pipe.unet
    counted = {"flops": 0, "calls": 0}
    counter = FlopCounterMode(display=False)

    def before(*_args: Any) -> None:
        counter.__enter__()

    def after(*_args: Any) -> None:
        counter.__exit__(None, None, None)
        counted["flops"] += counter.get_total_flops()
        counted["calls"] += 1

    handles = [denoiser.register_forward_pre_hook(before), denoiser.register_forward_hook(after)]
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


def measure(name: str, variant: str, size: int, settings: Plan) -> list[object]:
    import torch

    from pipelines import real_size
    from pipelines.acceleration import accelerate, resolve

    dtype = torch.bfloat16 if settings.device == "cuda" else torch.float32
    pipe = real_size.instantiate(name, depth=settings.depth, dtype=dtype, device=settings.device)
    if not isinstance(pipe, tuple):
        pipe.set_progress_bar_config(disable=True)
    techniques = () if variant == "bare" else resolve([variant], settings.device)
    applied = accelerate(pipe, techniques, settings.device) if not isinstance(pipe, tuple) else []
    if techniques and not applied:
        return [name, size, variant, "does not apply", "", "", "", ""]
    run = call_for(pipe, size, settings.steps)
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
    steps_per_s = clock.calls / clock.seconds if clock.seconds else None
    flops = flops_per_call(pipe, run, settings.steps)
    peak = peak_tflops(settings.device)
    share = (flops * clock.calls / clock.seconds / (peak * 1e12)) if flops and peak and clock.seconds else None
    first_vs_tenth = f"{times[0] / times[9]:.2f}" if len(times) >= 10 else ""
    del pipe, run, clock
    _free(settings.device)
    return [name, size, variant, f"{statistics.median(warm):.3f}", f"{steps_per_s:.2f}" if steps_per_s else "",
            f"{peak_memory_mb(settings.device):.0f}", f"{share:.0%}" if share is not None else "n/a", first_vs_tenth]


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
        from transformers import Sam2Model

        from bench.common import temp_dir
        from pipelines import tiny

        model, name = Sam2Model.from_pretrained(tiny.ensure("sam2", temp_dir("gpu-quick"))), "sam2 tiny (quick)"
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
    for operation, name in settings.cases.items():
        for size in settings.sizes if not name.startswith("swin2sr") else settings.sizes[:1]:
            for variant in settings.variants if not name.startswith("swin2sr") else ("bare",):
                row = measure(name, variant, size, settings)
                rows.append([operation, *row])
    headers = ["operation", "config", "size", "variant", "s per edit", "denoiser calls/s", "peak MB (CPU: RSS)",
               "share of bf16 peak", "first ÷ tenth"]
    click_row = measure_clicks(settings)
    _free(settings.device)
    clicks = ["select model", "first click: embed ms", "further click ms (median)", "further click ms (max)",
              "embedding MB", "peak MB (CPU: RSS)"]
    return (f"bench.gpu on {device}: {settings.depth} depth, {settings.steps} steps, random weights\n"
            + table(headers, rows)
            + f"\n\nselect on {device}: a 1024×768 picture embedded once, then {CLICKS} further clicks "
              "(target on a GPU: a further click ≤ 50 ms)\n"
            + table(clicks, [click_row]))


if __name__ == "__main__":
    print(main(sys.argv[1:]))
    sys.exit(0)
