"""The registry: what every operation must declare for the UI, the API and the tests to pick it up."""

from __future__ import annotations

import pytest

from config import Settings
from kernel.errors import UserError
from pipelines import tiny
from pipelines.base import INPUTS
from pipelines.registry import OPERATIONS, get_operation


@pytest.mark.parametrize("op", OPERATIONS.values(), ids=list(OPERATIONS))
def test_each_operation_declares_what_the_ui_and_api_need(op):
    assert op.id and op.label and op.help.endswith(".")
    assert op.inputs[0] == "image" and set(op.inputs) <= set(INPUTS)
    assert op.model_kind in ("diffusers", "segmentation", "super_resolution")
    settings = Settings(_env_file=None)
    assert op.default_model(settings) in op.model_choices(settings)
    assert all(op.tiny_model(model) in tiny.BUILDERS for model in op.model_choices(settings))
    if op.prompt_required:
        assert op.prompt_label


def test_the_api_has_a_field_for_every_input():
    import gradio as gr

    from ui.api import _fields

    with gr.Blocks():
        assert set(_fields()) == set(INPUTS)


def test_the_six_operations_of_the_studio():
    assert list(OPERATIONS) == ["instruct_edit", "inpaint", "outpaint", "restyle", "remove_background", "upscale"]
    with pytest.raises(UserError, match="Unknown operation"):
        get_operation("sharpen")
