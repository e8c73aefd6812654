"""Select: a mask of what was clicked, boxed or named (white = selected), for the edits that take a mask.

Clicks and boxes run SAM 2 (Apache-2.0); words run SAM 3 (SAM License). The picture's embedding is
the slow part: a tab keeps it with the picture (pipelines/sessions.py), so each further click on the
same picture runs the mask decoder alone. The request carries that cache as `embeddings`
(an EmbeddingCache; `select_request` builds such a request); the API sends none, so each API call
embeds its picture once and keeps nothing.

Free by default (price 0): selecting changes nothing by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from PIL import Image

from kernel.errors import UserError
from pipelines.base import EditRequest, Model, Operation, Prepared, StepFn
from pipelines.geometry import grow, invert, shrink
from pipelines.images import flatten
from pipelines.inputs import BOX, GROW, IMAGE, INVERT, MODEL, POINTS, REFINE, TEXT, InputContext

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import Limits
    from pipelines.models import LoadedModel
    from pipelines.segmenting import Embedding, EmbeddingCache

SAM2_SMALL = "facebook/sam2.1-hiera-small"
SAM3 = "facebook/sam3"


class Selection(NamedTuple):
    """What the model work gives back: the mask, how many objects words found (None for clicks), and
    the picture's embedding when it was made just now (to be kept with the picture)."""

    mask: Image.Image
    found: int | None
    embedding: Embedding | None


def select_request(image: Image.Image, *, points: Any = None, box: Any = None, text: str = "",
                   model: str | None = None, embeddings: EmbeddingCache | None = None, **values: Any) -> EditRequest:
    """A select request from parsed values (tests, benchmarks), optionally with the picture's embedding cache."""
    return EditRequest(Select.id, image, points=points, box=box, text=text, model=model, embeddings=embeddings,
                       **values)


def tab_request(raw: dict[str, Any], ctx: InputContext, embeddings: EmbeddingCache) -> EditRequest:
    """The page's Select tool: its raw values by input name (points and box as JSON text or lists, text,
    refine, model) for the tab's picture in `ctx.picture`, with the embeddings kept with that picture
    (`HistoryEntry.embeddings`), so only the first click on a picture runs the image encoder."""
    request = Select().request_from(raw, ctx)
    request.values["embeddings"] = embeddings
    return request


class Select(Operation):
    id = "select"
    texts = {
        "en": {"label": "Select",
               "not_compared": "A selection is a mask of the picture, not an edit of it: nothing in it is meant "
                               "to stay the same.",
               "help": "Select part of the picture by clicking on it, dragging a box or naming it; "
                       "the result is a mask (white = selected).",
               "nothing_asked": "Click on the picture, drag a box or name what to select.",
               "clicks_and_words": "Select by clicking or by naming, not both at once.",
               "no_words": "{model} selects by clicks and boxes, not by words.",
               "no_clicks": "{model} selects by words, not by clicks.",
               "nothing_found": "Nothing matching \u201c{text}\u201d was found in the picture."},
        "sv": {"label": "Markera",
               "not_compared": "En markering är en mask av bilden, inte en redigering av den: inget i den ska "
                               "förbli detsamma.",
               "help": "Markera en del av bilden genom att klicka på den, dra en ruta eller namnge den; "
                       "resultatet är en mask (vitt = markerat).",
               "nothing_asked": "Klicka på bilden, dra en ruta eller skriv vad som ska markeras.",
               "clicks_and_words": "Markera genom att klicka eller genom att namnge, inte båda på en gång.",
               "no_words": "{model} markerar med klick och rutor, inte med ord.",
               "no_clicks": "{model} markerar med ord, inte med klick.",
               "nothing_found": "Inget som matchar \u201d{text}\u201d hittades i bilden."},
    }
    inputs = (IMAGE, POINTS, BOX, TEXT, REFINE, GROW, INVERT, MODEL)
    models = (
        Model(SAM2_SMALL, tiny="sam2", name="SAM 2.1 small", licence="Apache-2.0", speed="fast",
              kind="segment_anything"),
        # The SAM License (Meta, 2025-11-19) allows commercial use (with attribution and trade-control terms).
        Model(SAM3, tiny="sam3", name="SAM 3", licence="SAM License", speed="medium", kind="segment_anything"),
    )
    model_kind = "segment_anything"
    price = 0
    batchable = False  # one click at a time; each is milliseconds once the picture is embedded
    uses_seed = False
    output_mode = "L"
    compares_to_input = False  # the result is a mask: measuring what stayed the same makes no sense
    in_menu = False  # the page's Select tool sends the clicks; in the edits' menu it could take none
    examples = {"points": [[32, 24, 1]]}

    # --- which model: clicks go to a model that takes clicks, words to one that reads

    @staticmethod
    def reads_words(model_id: str) -> bool:
        return "sam3" in model_id.lower()

    def default_model(self, settings: Settings, request: EditRequest | None = None) -> str:
        choices = self.model_choices(settings)
        wants_words = request is not None and bool(request.text)
        fitting = [model_id for model_id in choices if self.reads_words(model_id) == wants_words]
        return (fitting or choices)[0]

    def validate(self, request: EditRequest, settings: Settings) -> None:
        super().validate(request, settings)
        if not (request.points or request.box or request.text):
            raise UserError(self.text("nothing_asked"))
        if request.points and request.text:
            raise UserError(self.text("clicks_and_words"))
        model_id = request.model or self.default_model(settings, request)
        name = self.model(model_id).name or model_id
        if request.text and not self.reads_words(model_id):
            raise UserError(self.text("no_words", model=name))
        if request.points and self.reads_words(model_id):
            raise UserError(self.text("no_clicks", model=name))
        width, height = request.image.size
        if request.points:
            POINTS.inside(request.points, (width, height))
        if request.box:
            BOX.clipped(request.box, (width, height))

    # --- the steps

    def prepare(self, request: EditRequest, model: LoadedModel, seed: int, limits: Limits) -> Prepared:
        cache: EmbeddingCache | None = request.values.get("embeddings")
        kept = cache.get(model.spec.key) if cache is not None else None
        box = BOX.clipped(request.box, request.image.size) if request.box else None
        needs_picture = kept is None or request.refine  # the encoder's input, or the matting model's
        return Prepared(
            request, seed,
            {"image": flatten(request.image) if needs_picture else None, "embedding": kept,
             "points": request.points, "box": box, "text": request.text, "refine": request.refine,
             "working_pixels": limits.working_pixels},
            shared={}, restore={"cache": cache, "key": model.spec.key},
        )

    def forward(self, model: LoadedModel, batch: list[Prepared], on_step: StepFn) -> list[Selection]:
        from pipelines.edges import refine
        from pipelines.segmenting import decode, embed, find

        selections = []
        for item in batch:
            given = item.model_input
            fresh = embed(model.pipe, given["image"]) if given["embedding"] is None else None
            embedding = given["embedding"] or fresh
            if given["text"]:
                mask, found = find(model.pipe, embedding, given["text"], given["box"])
            else:
                mask, found = decode(model.pipe, embedding, given["points"], given["box"]), None
            if given["refine"]:
                mask = refine(model.pipe.matte.model(), given["image"], mask, given["working_pixels"])
            selections.append(Selection(mask, found, fresh))
        on_step(1, 1)
        return selections

    def finish(self, prepared: Prepared, output: Selection) -> Image.Image:
        cache = prepared.restore.get("cache")
        if cache is not None and output.embedding is not None:
            cache.put(prepared.restore["key"], output.embedding)
        request = prepared.request
        mask = grow(output.mask, request.grow) if request.grow > 0 else shrink(output.mask, -request.grow)
        return invert(mask) if request.invert else mask

    def notice(self, prepared: Prepared, output: Selection) -> str | None:
        if output.found == 0:
            return self.text("nothing_found", text=prepared.request.text)
        return None
