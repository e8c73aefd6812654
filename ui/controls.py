"""The toolkit inputs build their page controls and API fields with (pipelines/inputs.py).

pipelines/ never imports gradio; an input's `control(ui, ...)` receives this object instead, with
gradio itself (`ui.gr`) and `ui.t` for texts the browser translates. (The picture and its mask
have the page's own place: the canvas, ui/canvas.py.)
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipelines.inputs import Input
from ui.i18n import t


class Toolkit:
    gr = gr

    @staticmethod
    def t(key: str) -> Any:
        return t(key)


UI = Toolkit()


def page_control(item: Input, *, visible: bool, label_key: str | None = None) -> gr.components.Component:
    """The input's control; `label_key` names it differently (the prompt box is named by the operation)."""
    return item.control(UI, t(label_key or item.key("label")), visible=visible)


def api_field(item: Input) -> gr.components.Component:
    return item.api_field(UI)


def run_row(prefix: str, run_key: str, cancel_key: str) -> tuple[gr.Button, gr.Button, gr.Markdown, gr.Markdown]:
    """Run (large) with its quiet Cancel beside it, then the progress line and the message line, as every tab
    that runs something has them; ids <prefix>run-row, <prefix>run, <prefix>cancel, <prefix>run-status,
    <prefix>run-message."""
    with gr.Row(elem_id=f"{prefix}run-row"):
        run = gr.Button(t(run_key), variant="primary", scale=3, elem_id=f"{prefix}run")
        cancel = gr.Button(t(cancel_key), variant="secondary", size="sm", scale=1, elem_id=f"{prefix}cancel")
    return run, cancel, gr.Markdown(elem_id=f"{prefix}run-status"), gr.Markdown(elem_id=f"{prefix}run-message")
