"""One API endpoint per operation, named after it, for `gradio_client` users.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    result, seed, run_id = client.predict(handle_file("cat.png"), "make it snowy", api_name="/instruct_edit")

Each endpoint takes the operation's inputs (in the order the operation lists them, named as on
the page) and returns the result as an inline PNG (`result["url"]` is a data: URL), its seed and
the run id. Uploads are read and deleted at once, and deleted too when a call is refused; results
never touch the disk.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from kernel.errors import UserError
from pipelines.base import Operation
from pipelines.inputs import InputContext
from pipelines.registry import OPERATIONS, inputs
from ui.account import AccountHandlers
from ui.controls import api_field
from ui.handlers import run_edit, user_error
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
        for op in OPERATIONS.values():
            gr.Button(visible=False).click(
                make_endpoint(op, studio, account),
                [fields[item.name] for item in op.inputs],
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
        return image_data(outcome.image, f"{op.id}.png"), outcome.seed, outcome.run_id

    parameters = [
        inspect.Parameter(item.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if item.name == "image" else None)
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


def discard_uploads(op: Operation, given: dict[str, Any], upload_root: Path) -> None:
    """Delete every file a call uploaded that is still there (a refused call, or one refused half-way)."""
    root = upload_root.resolve()
    for item in op.inputs:
        for name in item.uploads(given.get(item.name)):
            path = Path(name).resolve()
            if path.is_relative_to(root) and path != root:
                delete_upload(path, root)
