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
