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
    assert op.inputs[0] in ("image", "images") and op.inputs[0].pictures and len(set(op.inputs)) == len(op.inputs)
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


def test_the_seven_operations_of_the_studio():
    assert list(OPERATIONS) == ["instruct_edit", "inpaint", "outpaint", "restyle", "remove_background", "upscale",
                                "compose", "select"]
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


# ------------------------------------------------------------------ licences

KONTEXT, RMBG, BIREFNET = "black-forest-labs/FLUX.1-Kontext-dev", "briaai/RMBG-1.4", "ZhengPeng7/BiRefNet"


def paid(**values) -> Settings:
    """Settings of a deployment that sells credits (a Creem API key is what makes payments configured)."""
    return Settings(_env_file=None, creem_api_key="creem-key", **values)


def test_every_model_names_its_licence_and_has_a_name_for_the_menu():
    for op in OPERATIONS.values():
        for model in op.models:
            assert model.licence, f"{op.id}: {model.id}"
            assert model.name, f"{op.id}: {model.id} would show as its raw id in the model menu"
    assert {model.id for op in OPERATIONS.values() for model in op.models if not model.commercial} >= {KONTEXT, RMBG}


def test_without_payments_every_model_is_offered():
    settings = Settings(_env_file=None)
    assert not settings.payments_configured and settings.noncommercial_models_allowed
    for op in OPERATIONS.values():
        assert set(op.model_choices(settings)) == {model.id for model in op.models}, op.id
    registry.check_settings(Settings(_env_file=None, instruct_edit_model=KONTEXT))


def test_with_payments_the_non_commercial_built_ins_are_not_offered_and_the_start_goes_on():
    settings = paid()
    assert settings.payments_configured and not settings.noncommercial_models_allowed
    assert KONTEXT not in OPERATIONS["instruct_edit"].model_choices(settings)
    assert OPERATIONS["instruct_edit"].default_model(settings) == "timbrooks/instruct-pix2pix"
    assert OPERATIONS["remove_background"].model_choices(settings) == [BIREFNET]
    for op in OPERATIONS.values():
        assert all(op.model(model_id).commercial for model_id in op.model_choices(settings)), op.id
    registry.check_settings(settings)


@pytest.mark.parametrize("setting", [
    {"instruct_edit_model": KONTEXT},
    {"instruct_edit_models": f"timbrooks/instruct-pix2pix, {KONTEXT}"},
    {"remove_background_model": RMBG},
    {"restyle_model": KONTEXT},  # known to another operation: its licence is still known
])
def test_with_payments_an_operator_setting_naming_a_non_commercial_model_fails_the_start(setting):
    name, value = next(iter(setting.items()))
    model = RMBG if RMBG in value else KONTEXT
    with pytest.raises(ValueError) as refused:
        registry.check_settings(paid(**setting))
    sentence = str(refused.value)
    assert name.upper() in sentence and model in sentence and name.rsplit("_model", 1)[0] in sentence
    assert "does not allow commercial use" in sentence and "ALLOW_NONCOMMERCIAL_MODELS=true" in sentence
    assert ("bria-rmbg-1.4" if model == RMBG else "flux-1-dev-non-commercial-license") in sentence


def test_allow_noncommercial_models_offers_them_with_payments():
    settings = paid(allow_noncommercial_models=True, remove_background_model=RMBG)
    assert settings.noncommercial_models_allowed
    registry.check_settings(settings)
    assert OPERATIONS["remove_background"].model_choices(settings) == [RMBG, BIREFNET]
    assert KONTEXT in OPERATIONS["instruct_edit"].model_choices(paid(allow_noncommercial_models=True))


def test_a_model_the_studio_does_not_know_is_the_operators_to_check():
    registry.check_settings(paid(restyle_model="some/model"))


def test_remove_background_defaults_to_birefnet_which_loads_as_matting():
    op, settings = OPERATIONS["remove_background"], Settings(_env_file=None)
    assert op.default_model(settings) == BIREFNET and op.model(BIREFNET).commercial
    assert op.kind_of(BIREFNET) == "matting" and op.kind_of(RMBG) == "segmentation"
    assert op.kind_of("someone/segmenter") == "segmentation"  # what it does not know loads as the operation says
    assert BIREFNET in settings.trust_remote_code_models and op.takes("model")
