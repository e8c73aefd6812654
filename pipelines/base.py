"""What an editing operation is: one class that declares everything about itself, and four steps.

Declared (class attributes), read by the page, the API, the prices, the settings, /healthz, the
metrics and the contract tests, so a new operation is one file in pipelines/ops/ plus its line
in pipelines/registry.py:
    id            the API name and the settings prefix (<ID>_MODEL, <ID>_MODELS, the PRICES key)
    texts         label, help, the prompt box's label and every message, in each language
    inputs        what it takes, as typed inputs (pipelines/inputs.py); the first is the picture (IMAGE),
                  or the pictures (IMAGES) for an operation that takes several
    models        the models it can run, the first the default, each with its tiny stand-in
    model_kind    which loader loads them (pipelines/loaders.py), unless a Model names its own kind;
                  pipeline_class for diffusers
    price         credits per run unless PRICES says otherwise
    capabilities  masked, batchable, uses_seed, prompt_required, output_mode, in_menu, output_size(), placement()
    examples      arguments for a call that works (the contract tests and the API docs use them)
    example       a picture and inputs that show it at its best (the page's "Try an example")

The four steps:
    validate(request)            cheap checks, before any model is touched
    prepare(request, model)      fit the picture to the model (on the CPU)
    forward(model, batch, step)  the model work for one or more prepared items (on the device); it reads
                                 only each item's seed, model_input and shared (ZeroGPU sends just those)
    finish(prepared, output)     restore the input's size and framing
    notice(prepared, output)     optionally, a sentence to show with the result ("nothing was found")
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from kernel.errors import UserError
from kernel.language import DEFAULT, translate
from pipelines.device import large_gpu
from pipelines.examples import Example
from pipelines.inputs import IMAGE, KNOWN, PROMPT, Input, InputContext, Texts

if TYPE_CHECKING:
    from config import Settings
    from pipelines.models import LoadedModel

StepFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Lora:
    """Weights fused into a model after it loads, such as a step-distilled variant: a Hub repo (or a folder)
    and the safetensors file in it, with the sampling it was made for (pipelines/lora.py applies it)."""

    repo: str
    file: str
    steps: int  # the number of steps it was distilled for: the default instead of the family's
    guidance: float  # likewise (1.0: no classifier-free guidance)
    scheduler: str = ""  # a key of pipelines.lora.SCHEDULERS: the scheduler settings it wants; empty: the model's


@dataclass(frozen=True)
class Model:
    """A model an operation can run: a Hub id or a folder, the tiny stand-in (pipelines/tiny.py) that
    replaces it when real weights are out of reach, and what a visitor choosing it should know."""

    id: str
    tiny: str
    name: str = ""  # what the page calls it; empty: the id
    licence: str = ""  # the weights' licence, as on the model card (SPDX id where there is one)
    commercial: bool = True  # may a service that sells credits run it?
    speed: str = ""  # "fast", "medium" or "slow" on a GPU: a hint beside the name
    kind: str = ""  # which loader loads it (pipelines/loaders.py); empty: the operation's model_kind
    pipeline_class: str | None = None  # diffusers class for this model; None: the operation's
    pictures: int = 1  # how many pictures it takes in one run (the operation's checks read it)
    base: str = ""  # whose weights it loads (a Hub id or a folder); empty: its id. Set where `lora` changes them
    lora: Lora | None = None  # fused into the base's weights after loading (its own loaded copy)

    @property
    def weights_id(self) -> str:
        """The Hub id or folder its weights load from."""
        return self.base or self.id


class EditRequest:
    """One edit as asked for: the operation, the picture, and the values of its other inputs by name.

    Values are read as attributes (`request.steps`); one that was not given, or given as None,
    reads as its input's default, so the page, the API and the tests agree on what "left out" means.
    """

    def __init__(self, operation: str, image: Image.Image, prompt: str = "", **values: Any) -> None:
        self.operation = operation
        self.image = image
        self.values: dict[str, Any] = {"prompt": prompt, **values}

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if values.get(name) is not None:
            return values[name]
        if name in KNOWN:
            return KNOWN[name].default
        raise AttributeError(name)

    def __repr__(self) -> str:  # never the prompt or the pixels: requests end up in tracebacks
        return f"<EditRequest {self.operation} {self.image.width}×{self.image.height} {sorted(self.values)}>"


@dataclass(frozen=True)
class Limits:
    """Sizes that depend on whether demo weights are in use (they are kept small and fast)."""

    working_pixels: int
    demo: bool = False  # demo weights give noise: even operations that work at full size may work at working_pixels
    bucketed: bool = False  # a compiled model: canvases snap to a few sizes (geometry.size_buckets)


@dataclass
class Prepared:
    """One item ready for the model. `forward` reads only `seed`, `model_input` and `shared`: on
    ZeroGPU those are all that cross to the GPU worker (see `on_device`)."""

    request: EditRequest | None  # None on the device side of ZeroGPU
    seed: int
    model_input: dict[str, Any]  # per-item arguments, listed across a batch
    shared: dict[str, Any]  # arguments every item of a batch has in common
    restore: dict[str, Any] = field(default_factory=dict)  # what finish() needs
    measured: dict[str, Any] = field(default_factory=dict)  # its batch's time, steps/s, peak memory (measures.py)

    def on_device(self) -> Prepared:
        """What `forward` needs and nothing more: the original photo and finish()'s notes stay here."""
        return Prepared(None, self.seed, self.model_input, self.shared)


class Operation(ABC):
    id: ClassVar[str]
    texts: ClassVar[Texts]  # {"en": {"label", "help", "prompt"?, "prompt_missing"?, messages...}, "sv": {...}}
    inputs: ClassVar[tuple[Input, ...]]
    models: ClassVar[tuple[Model, ...]]
    model_kind: ClassVar[str]  # a key of pipelines.loaders.LOADERS
    pipeline_class: ClassVar[str | None] = None  # diffusers class; None: what the model folder says
    gpu_default: ClassVar[str | None] = None  # the default instead of the first model on a large GPU (device.py)
    price: ClassVar[int] = 1
    # capabilities
    masked: ClassVar[bool] = False  # takes a painted area: the page paints on the picture
    batchable: ClassVar[bool] = True
    uses_seed: ClassVar[bool] = True
    prompt_required: ClassVar[bool] = False
    output_mode: ClassVar[str | None] = None  # None: the input's mode (RGB, or RGBA when it had transparency)
    compares_to_input: ClassVar[bool] = True  # False: measuring what changed makes no sense (texts "not_compared")
    in_menu: ClassVar[bool] = True  # False: a tool the page offers its own way (Select), not an edit in the menu
    examples: ClassVar[dict[str, Any]] = {}
    example: ClassVar[Example | None] = None  # the page's "Try an example" for it (pipelines/examples.py)

    # --- texts

    def text(self, what: str, /, **values: Any) -> str:
        """One of its texts in English, as raised and logged (the page translates it on the way out)."""
        return translate(self.tables(), f"op.{self.id}.{what}", DEFAULT, **values)

    def tables(self) -> Texts:
        """Its texts as the page's translation tables want them: op.<id>.<key>."""
        return {lang: {f"op.{self.id}.{key}": value for key, value in texts.items()}
                for lang, texts in self.texts.items()}

    @property
    def label(self) -> str:
        return self.text("label")

    @property
    def help(self) -> str:
        return self.text("help")

    @property
    def prompt_label(self) -> str:
        """The prompt box's label; empty when the operation takes no prompt."""
        return self.text("prompt") if self.takes(PROMPT.name) else ""

    def takes(self, name: str) -> bool:
        return name in self.inputs

    def input(self, name: str) -> Input:
        return next(item for item in self.inputs if item.name == name)

    # --- models

    @property
    def model_setting(self) -> str:
        """The setting that names the default model (INSTRUCT_EDIT_MODEL)."""
        return f"{self.id}_model"

    @property
    def models_setting(self) -> str:
        """The setting that lists the models offered (INSTRUCT_EDIT_MODELS)."""
        return f"{self.id}_models"

    def model_settings(self) -> tuple[str, ...]:
        """Every setting this operation reads its models from (checked at start: others are typos)."""
        return (self.model_setting, self.models_setting)

    def model_choices(self, settings: Settings) -> list[str]:
        """The model ids an operator allows for this operation; the first is the default.

        Without <ID>_MODEL(S) these are the built-in models, less the non-commercial ones where the
        settings rule those out (`built_in_choices`). What the operator names is offered as named:
        a non-commercial model named there fails the start instead (registry.check_settings).
        """
        configured = settings.operation_models
        listed = _comma_list(configured.get(self.models_setting)) or self.built_in_choices(settings)
        default = configured.get(self.model_setting)
        if not default and self.gpu_default in listed and large_gpu(settings.device):
            default = self.gpu_default  # <ID>_MODEL, when set, wins over the device's choice
        return list(dict.fromkeys([default, *listed] if default else listed))

    def built_in_choices(self, settings: Settings) -> list[str]:
        """The built-in models offered: all of them, less those whose licence forbids commercial use
        when the service sells credits (payments configured) and ALLOW_NONCOMMERCIAL_MODELS is off."""
        allowed = settings.noncommercial_models_allowed
        return [model.id for model in self.models if model.commercial or allowed]

    def default_model(self, settings: Settings, request: EditRequest | None = None) -> str:
        return self.model_choices(settings)[0]

    def model(self, model_id: str) -> Model:
        """What the operation knows about a model it offers; a configured one it does not know by its id alone."""
        return next((model for model in self.models if model.id == model_id),
                    Model(model_id, tiny=self.tiny_model(model_id)))

    def kind_of(self, model_id: str) -> str:
        """Which loader loads `model_id`: its own kind, else the operation's model_kind."""
        return self.model(model_id).kind or self.model_kind

    def pipeline_class_for(self, model_id: str) -> str | None:
        """The diffusers pipeline class that runs `model_id` for this operation."""
        return self.model(model_id).pipeline_class or self.pipeline_class

    def tiny_model(self, model_id: str) -> str:
        """Which tiny model stands in for `model_id` on demo weights: its own, else the default's."""
        known = {model.id: model.tiny for model in self.models}
        return known.get(model_id, self.models[0].tiny)

    # --- the request

    def request_from(self, raw: dict[str, Any], ctx: InputContext) -> EditRequest:
        """An EditRequest from the page's or the API's raw values, by input name.

        The API sends the picture (or the pictures, IMAGES, whose first becomes `ctx.picture`); the page
        edits the one it shows, which it puts in `ctx.picture`.
        """
        if ctx.picture is None and self.takes(IMAGE.name):
            ctx.picture = IMAGE.parse(raw.get(IMAGE.name), ctx)
        values = {item.name: item.parse(raw.get(item.name), ctx) for item in self.inputs if item != IMAGE.name}
        return EditRequest(self.id, ctx.picture, **values)

    def output_size(self, request: EditRequest) -> tuple[int, int]:
        """The size of the picture a run will return (prices may scale with it)."""
        return request.image.size

    def placement(self, request: EditRequest) -> tuple[float, float, float, float]:
        """Where the input picture sits in the result, as fractions (x, y, width, height): Compare lines them up.
        The whole frame unless the operation moves the picture (an extension puts it inside a larger one)."""
        return (0.0, 0.0, 1.0, 1.0)

    def validate(self, request: EditRequest, settings: Settings) -> None:
        for item in self.inputs:
            item.check(getattr(request, item.name), settings)
        if self.prompt_required and not (request.prompt or "").strip():
            raise UserError(self.text("prompt_missing"))

    # --- the four steps

    @abstractmethod
    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared: ...

    def batch_key(self, prepared: Prepared) -> Hashable:
        """Items with equal keys can share one forward pass."""
        return tuple(sorted((k, repr(v)) for k, v in prepared.shared.items()))

    @abstractmethod
    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Image.Image]: ...

    @abstractmethod
    def finish(self, prepared: Prepared, output: Image.Image) -> Image.Image: ...

    def notice(self, prepared: Prepared, output: Any) -> str | None:
        """A sentence to show beside a result that is not what the visitor may expect (nothing was found)."""
        return None


def _comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
