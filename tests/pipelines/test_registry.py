"""The registry: what every operation must declare for the UI, the API and the tests to pick it up."""

from __future__ import annotations

from typing import ClassVar

import pytest

from config import Settings
from kernel.errors import UserError
from kernel.language import LANGUAGES
from pipelines import registry, tiny
from pipelines.base import Model, Operation
from pipelines.inputs import IMAGE
from pipelines.loaders import LOADERS
from pipelines.registry import OPERATIONS, get_operation


@pytest.mark.parametrize("op", OPERATIONS.values(), ids=list(OPERATIONS))
def test_each_operation_declares_what_the_ui_and_api_need(op):
    assert op.id and op.label and op.help.endswith(".")
    assert op.inputs[0] == "image" and len(set(op.inputs)) == len(op.inputs)
    assert op.model_kind in LOADERS
    settings = Settings(_env_file=None)
    assert op.default_model(settings) in op.model_choices(settings)
    assert all(op.tiny_model(model) in tiny.BUILDERS for model in op.model_choices(settings))
    assert op.price >= 0
    for lang in LANGUAGES:  # every text in every language
        assert set(op.texts[lang]) == set(op.texts["en"]), f"{op.id}: {lang}"
    if op.prompt_required:
        assert op.prompt_label


def test_the_api_has_a_field_for_every_input():
    import gradio as gr

    from ui.api import _fields

    with gr.Blocks():
        assert set(_fields()) == set(registry.inputs())


def test_the_six_operations_of_the_studio():
    assert list(OPERATIONS) == ["instruct_edit", "inpaint", "outpaint", "restyle", "remove_background", "upscale"]
    with pytest.raises(UserError, match="Unknown operation"):
        get_operation("sharpen")


class Incomplete(Operation):
    id = "incomplete"
    texts: ClassVar = {"en": {"label": "Incomplete"}}
    inputs = (IMAGE,)
    models = (Model("x/y", tiny="sd-img2img"),)
    model_kind = "diffusers"

    def prepare(self, *args): ...
    def forward(self, *args): ...
    def finish(self, *args): ...


def test_an_operation_that_misses_a_declaration_is_refused():
    with pytest.raises(ValueError, match="help"):
        registry.register(Incomplete())
    with pytest.raises(ValueError, match="registered already"):
        registry.register(OPERATIONS["upscale"])
    assert "incomplete" not in OPERATIONS


def test_settings_that_name_no_operation_fail_the_start(tmp_path):
    with pytest.raises(ValueError, match="PRICES"):
        registry.check_settings(Settings(_env_file=None, prices="sharpen:3"))
    with pytest.raises(ValueError, match="PRELOAD_OPERATION"):
        registry.check_settings(Settings(_env_file=None, preload_operation="sharpen"))
    registry.check_settings(Settings(_env_file=None, prices="upscale:7", restyle_model="some/model"))


def test_model_settings_are_derived_from_the_operation_id():
    settings = Settings(_env_file=None, restyle_model="my/restyler", instruct_edit_models="a/one, b/two")
    assert OPERATIONS["restyle"].model_choices(settings)[0] == "my/restyler"
    assert OPERATIONS["instruct_edit"].model_choices(settings) == ["a/one", "b/two"]
    assert OPERATIONS["upscale"].model_choices(Settings(_env_file=None, upscale_x4_model="my/x4"))[1] == "my/x4"
