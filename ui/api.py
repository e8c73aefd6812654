"""One API endpoint per operation, named after it, for `gradio_client` users.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    result, seed, run_id = client.predict(handle_file("cat.png"), "make it snowy", api_name="/instruct_edit")

Each endpoint takes the operation's inputs (pipelines.base.INPUTS) and returns the result as an
inline PNG (`result["url"]` is a data: URL), its seed and the run id. Uploads are read and
deleted at once; results never touch the disk.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from kernel.errors import UserError
from kernel.language import DEFAULT, translate
from pipelines.base import EditRequest, Operation
from pipelines.geometry import DIRECTIONS
from pipelines.registry import OPERATIONS
from ui.account import AccountHandlers
from ui.handlers import decode_upload, run_edit, user_error
from ui.uploads import delete_upload

if TYPE_CHECKING:
    from services import Studio
from ui.i18n import language
from ui.views import image_data

# Raised in English; a caller whose Accept-Language is Swedish reads them in Swedish.
STRINGS = {
    "en": {"api.not_a_number": "{name} must be a number.", "api.not_whole": "{name} must be a whole number."},
    "sv": {"api.not_a_number": "{name} måste vara ett tal.", "api.not_whole": "{name} måste vara ett heltal."},
}


def _fields() -> dict[str, gr.components.Component]:
    """Hidden components that give each endpoint parameter its name, type and documentation."""
    return {
        "image": gr.Image(label="image", type="filepath"),
        "mask": gr.Image(label="mask", type="filepath"),
        "prompt": gr.Textbox(label="prompt"),
        "directions": gr.CheckboxGroup(list(DIRECTIONS), label="directions"),
        "amount": gr.Number(label="amount"),
        "scale": gr.Number(label="scale", precision=0),
        "strength": gr.Number(label="strength"),
        "steps": gr.Number(label="steps", precision=0),
        "guidance": gr.Number(label="guidance"),
        "seed": gr.Number(label="seed", precision=0),
        "model": gr.Textbox(label="model"),
    }


def add_api_endpoints(studio: Studio, account: AccountHandlers) -> None:
    """Call inside a gr.Blocks context."""
    settings = studio.settings
    with gr.Group(visible=False):
        fields = _fields()
        result = gr.Image(label="result")
        seed = gr.Number(label="seed", precision=0)
        run_id = gr.Textbox(label="run_id")
        for op in OPERATIONS.values():
            gr.Button(visible=False).click(
                make_endpoint(op, studio, account),
                [fields[name] for name in op.inputs],
                [result, seed, run_id],
                api_name=op.id,
                api_description=op.help,
                preprocess=False,
                postprocess=False,
                concurrency_id="device",
                concurrency_limit=settings.max_batch_size,
            )


def make_endpoint(op: Operation, studio: Studio, account: AccountHandlers) -> Callable[..., tuple]:
    """A function whose signature is exactly the operation's inputs, so the API docs name them."""
    settings, upload_root = studio.settings, studio.upload_root

    def endpoint(*args: Any) -> tuple:
        *values, request, progress = args
        given = dict(zip(op.inputs, values, strict=True))
        try:
            user = account.require_user(request)  # api_visibility is no security boundary: check here
        except gr.Error:
            discard_uploads(given, upload_root)
            raise
        lang = language(request)
        try:
            edit = _request_from(op, given, upload_root, settings)
        except UserError as exc:
            raise user_error(exc, lang) from None
        outcome = run_edit(studio.paid_runs, edit, user.id, progress, lang=lang)
        return image_data(outcome.image, f"{op.id}.png"), outcome.seed, outcome.run_id

    parameters = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if name == "image" else None)
        for name in op.inputs
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


def discard_uploads(given: dict[str, Any], upload_root: Path) -> None:
    """A refused call still must not leave its pictures in the upload folder."""
    for name in ("image", "mask"):
        payload = given.get(name)
        if isinstance(payload, dict) and payload.get("path"):
            path = Path(payload["path"]).resolve()
            if path.is_relative_to(upload_root.resolve()):
                delete_upload(path, upload_root.resolve())


def _request_from(op: Operation, given: dict[str, Any], upload_root: Path, settings: Any) -> EditRequest:
    image = decode_upload(given.get("image"), upload_root, settings)
    mask = decode_upload(given["mask"], upload_root, settings) if given.get("mask") else None
    directions = given.get("directions") or ()
    if isinstance(directions, str):
        directions = [part.strip() for part in directions.split(",") if part.strip()]
    return EditRequest(
        operation=op.id,
        image=image,
        prompt=str(given.get("prompt") or ""),
        mask=mask,
        seed=_number(given.get("seed"), "seed", int),
        steps=_number(given.get("steps"), "steps", int),
        guidance=_number(given.get("guidance"), "guidance", float),
        strength=_number(given.get("strength"), "strength", float),
        scale=_number(given.get("scale"), "scale", int),
        directions=tuple(directions),
        amount=_number(given.get("amount"), "amount", float),
        model=given.get("model") or None,
    )


def _number(value: Any, name: str, kind: type) -> Any:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(translate(STRINGS, "api.not_a_number", DEFAULT, name=name)) from None
    if kind is int and not number.is_integer():
        raise UserError(translate(STRINGS, "api.not_whole", DEFAULT, name=name))
    return kind(number)
