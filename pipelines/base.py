"""What an editing operation is: a small class with capability flags and four steps.

    validate(request)            cheap checks, before any model is touched
    prepare(request, model)      fit the picture to the model (on the CPU)
    forward(model, batch, step)  the model work for one or more prepared items (on the device)
    finish(prepared, output)     restore the input's size and framing

Adding an operation = one file in pipelines/ops/ plus its line in pipelines/registry.py; the UI,
the API endpoints and the contract tests read the class attributes and pick it up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from kernel.errors import UserError

if TYPE_CHECKING:
    from config import Settings
    from pipelines.models import LoadedModel

StepFn = Callable[[int, int], None]

# Every input an operation may declare; the UI and the API build their fields from these names.
INPUTS = ("image", "mask", "prompt", "directions", "amount", "scale", "strength", "steps", "guidance", "seed", "model")


@dataclass
class EditRequest:
    operation: str
    image: Image.Image
    prompt: str = ""
    mask: Image.Image | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    strength: float | None = None
    scale: int | None = None
    directions: tuple[str, ...] = ()
    amount: float | None = None
    model: str | None = None  # one of the operation's configured models; None = the default


@dataclass(frozen=True)
class Limits:
    """Sizes that depend on whether demo weights are in use (they are kept small and fast)."""

    working_pixels: int


@dataclass
class Prepared:
    request: EditRequest
    seed: int
    model_input: dict[str, Any]  # per-item arguments, listed across a batch
    shared: dict[str, Any]  # arguments every item of a batch has in common
    restore: dict[str, Any] = field(default_factory=dict)  # what finish() needs


class Operation(ABC):
    id: ClassVar[str]
    label: ClassVar[str]
    help: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]]
    prompt_label: ClassVar[str] = ""
    prompt_required: ClassVar[bool] = False
    prompt_missing: ClassVar[str] = "Please type a prompt first."
    model_kind: ClassVar[str]  # how to load: "diffusers" | "segmentation" | "super_resolution"
    pipeline_class: ClassVar[str | None] = None  # diffusers class; None: what the model folder says
    batchable: ClassVar[bool] = True
    uses_seed: ClassVar[bool] = True

    # --- models

    @abstractmethod
    def model_choices(self, settings: Settings) -> list[str]:
        """The model ids an operator allows for this operation; the first is the default."""

    def default_model(self, settings: Settings, request: EditRequest | None = None) -> str:
        return self.model_choices(settings)[0]

    @abstractmethod
    def tiny_model(self, model_id: str) -> str:
        """Which tiny model (pipelines/tiny.py) stands in for `model_id` on demo weights."""

    # --- the four steps

    def output_size(self, request: EditRequest) -> tuple[int, int]:
        """The size of the picture a run will return (prices may scale with it)."""
        return request.image.size

    def validate(self, request: EditRequest, settings: Settings) -> None:
        prompt = request.prompt or ""
        if len(prompt) > settings.max_prompt_chars:
            raise UserError(
                f"The text is {len(prompt):,} characters long; the limit is {settings.max_prompt_chars:,}."
            )
        if self.prompt_required and not prompt.strip():
            raise UserError(self.prompt_missing)
        if request.steps is not None and not 1 <= request.steps <= 150:
            raise UserError("Steps must be between 1 and 150.")
        if request.guidance is not None and not 0 <= request.guidance <= 30:
            raise UserError("Guidance must be between 0 and 30.")
        if request.seed is not None and not 0 <= request.seed < 2**32:
            raise UserError("The seed must be a whole number between 0 and 4294967295.")

    @abstractmethod
    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared: ...

    def batch_key(self, prepared: Prepared) -> Hashable:
        """Items with equal keys can share one forward pass."""
        return tuple(sorted((k, repr(v)) for k, v in prepared.shared.items()))

    @abstractmethod
    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]: ...

    @abstractmethod
    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image: ...
