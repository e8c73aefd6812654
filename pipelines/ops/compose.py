"""Compose: change the first picture with things from up to three others, said in words
("put the lamp from picture 2 on the table in picture 1").

FLUX.2 [klein] 4B by default: its pipeline takes a list of reference pictures for one prompt. The first
picture is the one edited: the result has its size and framing (fitted like an instruction edit and put
back by finish); the others are references, each scaled on its own (their shapes and modes may differ).
How many pictures a model takes is a fact about the model (`Model.pictures`): a model that takes fewer
than the visitor gave is refused in a sentence before anything is charged. Qwen-Image-Edit-2511
(QwenImageEditPlusPipeline, with or without its Lightning LoRA) takes 3; call settings are instruct_edit's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from kernel.errors import RunFailed, UserError
from pipelines.base import Model, Prepared
from pipelines.diffusion import DiffusionOperation
from pipelines.geometry import at_least, scaled_within, within_aspect
from pipelines.images import flatten
from pipelines.inputs import GUIDANCE, IMAGES, MODEL, PROMPT, SEED, STEPS
from pipelines.ops.instruct_edit import FAMILIES, KLEIN, QWEN_EDIT, call_settings, lightning

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Limits
    from pipelines.models import LoadedModel

MOST_STRETCHED = 8.0  # FLUX.2's reference check refuses pictures longer than 8:1; longer ones get a grey band


class Compose(DiffusionOperation):
    id = "compose"
    texts = {
        "en": {
            "label": "Combine pictures",
            "help": "Bring things from other pictures into picture 1, e.g. “put the lamp from picture 2 on the table "
                    "in picture 1”. The result keeps the size and framing of picture 1.",
            "prompt": "Instruction",
            "prompt_missing": "Please say how to combine the pictures first, e.g. “put the lamp from picture 2 on "
                              "the table in picture 1”.",
            "too_many_for_model": "{model} takes at most {most} pictures; you gave {count}.",
            "one_picture": "{model} takes one picture only; you gave {count}. Choose a model that combines "
                           "pictures, or remove the others.",
            "cannot_combine": "{model} cannot combine pictures.",
        },
        "sv": {
            "label": "Kombinera bilder",
            "help": "Hämta saker från andra bilder till bild 1, t.ex. ”ställ lampan från bild 2 på bordet i bild 1”. "
                    "Resultatet behåller storleken och utsnittet hos bild 1.",
            "prompt": "Instruktion",
            "prompt_missing": "Säg först hur bilderna ska kombineras, t.ex. ”ställ lampan från bild 2 på bordet i "
                              "bild 1”.",
            "too_many_for_model": "{model} tar högst {most} bilder; du gav {count}.",
            "one_picture": "{model} tar bara en bild; du gav {count}. Välj en modell som kombinerar bilder, eller "
                           "ta bort de andra.",
            "cannot_combine": "{model} kan inte kombinera bilder.",
        },
    }
    inputs = (IMAGES, PROMPT, STEPS, GUIDANCE, SEED, MODEL)
    models = (
        Model(KLEIN, tiny="flux2-klein", name="FLUX.2 [klein] 4B", licence="Apache-2.0", speed="fast", pictures=4),
        Model(QWEN_EDIT, tiny="qwen-edit-plus", name="Qwen-Image-Edit-2511", licence="Apache-2.0", speed="slow",
              pictures=3),
        lightning(4, pictures=3),
        lightning(8, pictures=3),
    )
    pipeline_class = None  # the model folder says which pipeline it is
    price = 4
    prompt_required = True
    batchable = False  # each run is one call with its own list of pictures
    examples = {"prompt": "put the pattern from picture 2 on picture 1", "steps": 2, "seed": 7}

    @staticmethod
    def pictures(request: EditRequest) -> tuple[Image.Image, ...]:
        """All of a request's pictures, the edited one first (a request that names only `image` has one)."""
        return tuple(request.images or (request.image,))

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        count = len(self.pictures(request))
        model = self.model(request.model or self.default_model(settings, request))
        if count > model.pictures:
            name = model.name or model.id
            if model.pictures == 1:
                raise UserError(self.text("one_picture", model=name, count=count))
            raise UserError(self.text("too_many_for_model", model=name, most=model.pictures, count=count))

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        family = FAMILIES.get(type(model.pipe).__name__)
        if family is None:
            raise RunFailed(self.text("cannot_combine", model=model.model_id))
        first, canvas = self.fit_whole(request, model, limits)
        others = [scaled_within(flatten(picture), limits.working_pixels) for picture in self.pictures(request)[1:]]
        references = [at_least(within_aspect(picture, MOST_STRETCHED), family.min_side) for picture in [first, *others]]
        shared = call_settings(family, request, model, canvas)  # drawn at the first picture's canvas
        return Prepared(request, seed, {"image": references, "prompt": request.prompt}, shared, {"canvas": canvas})

    def one_per_call(self, model: LoadedModel) -> bool:
        return True  # a run's pictures are the references of its one edit

    def call_inputs(self, batch: list[Prepared]) -> dict[str, Any]:
        """One item per call: its pictures are the pipeline's list of references for its one prompt."""
        (item,) = batch
        return {"image": list(item.model_input["image"]), "prompt": [item.model_input["prompt"]]}
