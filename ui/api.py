"""One API endpoint per operation, named after it, for `gradio_client` users.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    result, seed, run_id, recipe = client.predict(handle_file("cat.png"), "make it snowy", api_name="/instruct_edit")
    again, *_ = client.predict(json.dumps(recipe), [handle_file("cat.png")], api_name="/replay")
    sheet, grid, csv = client.predict(handle_file("cat.png"), "make it snowy", ["timbrooks/instruct-pix2pix"],
                                      [10, 20], [], [1, 2], "instruct_edit", api_name="/compare")

Each endpoint takes the operation's inputs (in the order the operation lists them, named as on
the page) and returns the result as an inline PNG (`result["url"]` is a data: URL), its seed, the
run id and its recipe (pipelines/recipes.py; it holds the prompt, so it is returned, never kept).
`/replay` runs a recipe again on the pictures given (the photo, then the mask for masked operations),
priced like its operation. Uploads are read and deleted at once, and deleted too when a call is
refused; results never touch the disk.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from kernel.errors import UserError
from pipelines.base import Operation
from pipelines.contact_sheet import contact_sheet, csv_text
from pipelines.images import to_data_url
from pipelines.inputs import IMAGE, MASK, PROMPT, InputContext
from pipelines.registry import OPERATIONS, get_operation, inputs
from ui.account import AccountHandlers
from ui.compare import columns_of, compare_requests, run_compare
from ui.controls import api_field
from ui.handlers import run_edit, run_replay, user_error
from ui.i18n import language, localize
from ui.uploads import delete_upload, take_upload
from ui.views import image_data

if TYPE_CHECKING:
    from services import Studio


def _fields() -> dict[str, gr.components.Component]:
    """Hidden components that give each endpoint parameter its name, type and documentation."""
    return {name: api_field(item) for name, item in inputs().items()}


def add_api_endpoints(studio: Studio, account: AccountHandlers) -> None:
    """Call inside a gr.Blocks context."""
    settings = studio.settings
    with gr.Group(visible=False):
        fields = _fields()
        result = gr.Image(label="result")
        seed = gr.Number(label="seed", precision=0)
        run_id = gr.Textbox(label="run_id")
        recipe = gr.JSON(label="recipe")
        answer = [result, seed, run_id, recipe]

        def endpoint(fn: Callable[..., tuple], given: list, returned: list, name: str, help_text: str) -> None:
            """An API-only event: raw values in and out (no file cached), on the device's queue."""
            gr.Button(visible=False).click(fn, given, returned, api_name=name, api_description=help_text,
                                           preprocess=False, postprocess=False, concurrency_id="device",
                                           concurrency_limit=settings.max_batch_size)

        for op in OPERATIONS.values():
            endpoint(make_endpoint(op, studio, account), [fields[item.name] for item in op.inputs], answer, op.id,
                     op.help)
        endpoint(make_replay_endpoint(studio, account),
                 [gr.Textbox(label="recipe"), gr.File(label="images", file_count="multiple", file_types=["image"])],
                 answer, "replay", REPLAY_HELP)
        endpoint(make_compare_endpoint(studio, account),
                 [fields["image"], fields["prompt"], gr.JSON(label="models"), gr.JSON(label="steps"),
                  gr.JSON(label="guidance"), gr.JSON(label="seeds"), gr.Textbox(label="operation"), fields["mask"]],
                 [gr.Image(label="contact_sheet"), gr.JSON(label="compare"), gr.Textbox(label="csv")],
                 "compare", COMPARE_HELP)

PROGRESS = gr.Progress()  # how Gradio injects progress: a default of this type
REPLAY_HELP = ("Run a result's recipe again on the same picture(s): the photo, then the mask for masked operations. "
               "Priced like the recipe's operation; on the same device and weights the pixels are the same.")


def make_endpoint(op: Operation, studio: Studio, account: AccountHandlers) -> Callable[..., tuple]:
    """A function whose signature is exactly the operation's inputs, so the API docs name them."""
    settings, upload_root = studio.settings, studio.upload_root

    def read_upload(payload: Any) -> bytes:
        return take_upload(payload, upload_root, max_bytes=settings.max_upload_bytes)

    def endpoint(*args: Any) -> tuple:
        *values, request, progress = args
        given = dict(zip([item.name for item in op.inputs], values, strict=True))
        try:
            user = account.require_user(request)  # api_visibility is no security boundary: check here
            lang = language(request)
            try:
                edit = op.request_from(given, InputContext(settings, read_upload))
            except UserError as exc:
                raise user_error(exc, lang) from None
        finally:
            discard_uploads(op, given, upload_root)  # read or refused, no upload stays behind
        outcome = run_edit(studio.paid_runs, edit, user.id, progress, lang=lang)
        if outcome.notice:  # a result to read with care ("nothing was found": an empty mask)
            gr.Info(localize(outcome.notice, lang))
        return image_data(outcome.image, f"{op.id}.png"), outcome.seed, outcome.run_id, outcome.recipe

    parameters = [
        inspect.Parameter(item.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if item is op.inputs[0] else None)
        for item in op.inputs
    ]
    parameters.append(
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)
    )
    parameters.append(inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress()))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__annotations__ = {"request": gr.Request}
    endpoint.__name__ = endpoint.__qualname__ = op.id
    endpoint.__doc__ = op.help
    return endpoint


def make_replay_endpoint(studio: Studio, account: AccountHandlers) -> Callable[..., tuple]:
    """`/replay(recipe, images)`: the recipe as JSON text, the pictures as files; priced and charged like the
    recipe's operation (PaidRuns.replay); a refused recipe charges nothing."""
    settings, upload_root = studio.settings, studio.upload_root

    def read_upload(payload: Any) -> bytes:
        return take_upload(payload, upload_root, max_bytes=settings.max_upload_bytes)

    def replay(recipe: str, images: list | None, request: gr.Request, progress: gr.Progress = PROGRESS) -> tuple:
        pictures = images if isinstance(images, list) else [images] if images else []
        try:
            user = account.require_user(request)
            lang = language(request)
            ctx = InputContext(settings, read_upload)
            outcome = run_replay(studio.paid_runs, recipe, pictures, ctx, user.id, progress, lang=lang)
        finally:
            _discard([name for raw in pictures for name in IMAGE.uploads(raw)], upload_root)
        name = f"{outcome.recipe.get('operation', 'replay')}.png"
        return image_data(outcome.image, name), outcome.seed, outcome.run_id, outcome.recipe

    replay.__doc__ = REPLAY_HELP
    return replay


COMPARE_HELP = ("One picture through up to 4 models × steps × guidance × seeds (lists; empty: the default), at most "
                "16 results, for one hold of the total price; only the results delivered are charged. Returns the "
                "contact sheet, {held, credits, cells: [{model, steps, guidance, seed, image, credits, run_id, "
                "error, recipe}]} and a CSV of the parameters and measurements.")


def make_compare_endpoint(studio: Studio, account: AccountHandlers) -> Callable[..., tuple]:
    """`/compare(image, prompt, models, steps, guidance, seeds, operation, mask)` (ui/compare.py runs it)."""
    settings, upload_root = studio.settings, studio.upload_root

    def read_upload(payload: Any) -> bytes:
        return take_upload(payload, upload_root, max_bytes=settings.max_upload_bytes)

    def compare(image: Any, prompt: str | None = None, models: Any = None, steps: Any = None, guidance: Any = None,
                seeds: Any = None, operation: str | None = None, mask: Any = None, request: gr.Request = None,
                progress: gr.Progress = PROGRESS) -> tuple:
        given = {IMAGE.name: image, PROMPT.name: prompt, MASK.name: mask}
        try:
            user = account.require_user(request)
            lang = language(request)
            op = _operation(operation or "instruct_edit", lang)
            sweep = {"models": models, "steps": steps, "guidance": guidance, "seeds": seeds}
            requests = compare_requests(op, given, sweep, InputContext(settings, read_upload), lang)
        finally:
            _discard([name for raw in given.values() for name in IMAGE.uploads(raw)], upload_root)
        compared, tiles = run_compare(studio.paid_runs, requests, user.id, progress, lang=lang)
        sheet = contact_sheet(requests[0].image, tiles, columns_of(requests), lang)
        cells = [{"model": item.model_id, "model_name": item.model, "steps": item.steps, "guidance": item.guidance,
                  "seed": item.seed, "image": to_data_url(item.image) if item.image is not None else None,
                  "credits": item.credits, "run_id": item.run_id, "error": item.error, "recipe": item.recipe}
                 for item in tiles]
        summary = {"compare_id": compared.compare_id, "held": compared.held, "credits": compared.credits,
                   "cells": cells}
        return image_data(sheet, "compare.png"), summary, csv_text(tiles)

    compare.__doc__ = COMPARE_HELP
    return compare


def _operation(operation: str, lang: str) -> Operation:
    try:
        return get_operation(operation)
    except UserError as exc:
        raise user_error(exc, lang) from None


def discard_uploads(op: Operation, given: dict[str, Any], upload_root: Path) -> None:
    """Delete every file a call uploaded that is still there (a refused call, or one refused half-way)."""
    _discard([name for item in op.inputs for name in item.uploads(given.get(item.name))], upload_root)


def _discard(names: list[str], upload_root: Path) -> None:
    root = upload_root.resolve()
    for name in names:
        path = Path(name).resolve()
        if path.is_relative_to(root) and path != root:
            delete_upload(path, root)
