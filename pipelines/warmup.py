"""Warming a compiled model up before visitors arrive: one small edit per size bucket.

torch.compile compiles on a model's first call with each new shape, which takes from seconds to
minutes. With ACCELERATIONS=compile every diffusers canvas is snapped to a few size buckets
(geometry.size_buckets) and the pipeline runs one picture per call, so the denoiser sees only those
shapes; the model manager runs these edits right after loading, before the model counts as loaded
(so /readyz waits for the preloaded default, and a visitor who asked for the model waits with the
load, never alone). Each edit is a picture of exactly the bucket's size, painted all over for masked
operations and extended on every side for outpainting, so its canvas is that bucket; it has the
operation's default guidance, as most edits do (the guidance decides whether the denoiser's batch
is doubled or tripled for classifier-free guidance, which is part of the shape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from pipelines.base import EditRequest, Limits, Operation, Prepared
from pipelines.diffusion import size_multiple
from pipelines.geometry import DIRECTIONS, size_buckets

if TYPE_CHECKING:
    from pipelines.loaders import LoadedModel

WARM_UP_STEPS = 1  # the compiled code does not depend on the number of steps
WARM_UP_SEED = 0


def needs_warm_up(model: LoadedModel) -> bool:
    """A compiled model with modules of its own (one built on a sibling's modules shares their warm-up)."""
    return model.compiled and model.base is None


def buckets(model: LoadedModel, limits: Limits) -> tuple[tuple[int, int], ...]:
    return size_buckets(limits.working_pixels, size_multiple(model.pipe))


def request_for(op: Operation, size: tuple[int, int]) -> EditRequest:
    """An edit whose canvas is the bucket of `size`: the operation's example values on a grey picture."""
    values = {**op.examples, "steps": WARM_UP_STEPS, "seed": WARM_UP_SEED}
    if op.takes("strength"):
        values["strength"] = 1.0  # img2img runs steps × strength denoiser calls: at least one
    if op.masked:
        values["mask"] = Image.new("L", size, 255)
    if op.takes("directions"):
        values["directions"] = list(DIRECTIONS)  # the same share on every side keeps the aspect
    return EditRequest(op.id, Image.new("RGB", size, (128, 128, 128)), **values)


def prepared_edits(op: Operation, model: LoadedModel, limits: Limits) -> list[Prepared]:
    """One prepared warm-up edit per size bucket, in the buckets' order."""
    return [op.prepare(request_for(op, size), model, WARM_UP_SEED, limits) for size in buckets(model, limits)]
