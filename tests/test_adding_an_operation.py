"""README's promise: a new operation is one file. Here that file is written to a temporary folder,
registered through the registry's public API, and the served app offers it everywhere: on the
page (in both languages), in the API, in the price list, in /healthz and in the metrics.

Nothing else in the repository is edited for it.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from billing.prices import price_list
from pipelines import registry
from tests import samples
from tests.conftest import LiveApp, make_settings, serve_app
from tests.ui.studio_page import TIMEOUT_MS, StudioPage

GRAYSCALE = '''
"""Grayscale: the picture in shades of grey, by a "model" that is three weights (one file, nothing else)."""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from pipelines import tiny
from pipelines.base import Model, Operation, Prepared
from pipelines.inputs import IMAGE
from pipelines.loaders import LoadedModel, loader


@tiny.builder("grey-weights")
def build(folder: Path) -> None:
    (folder / "weights.json").write_text(json.dumps([0.299, 0.587, 0.114]))


@loader("grey-matrix")
def load(spec, ctx) -> LoadedModel:
    weights = np.array(json.loads((Path(spec.source) / "weights.json").read_text()), dtype=np.float32)
    return LoadedModel(spec, weights, ctx.device, weights.nbytes, "cpu")


class Grayscale(Operation):
    id = "grayscale"
    texts = {
        "en": {"label": "Make it grey", "help": "Turn the picture into shades of grey."},
        "sv": {"label": "Gör den grå", "help": "Gör bilden i gråskala."},
    }
    inputs = (IMAGE,)
    models = (Model("studio/grey", tiny="grey-weights"),)
    model_kind = "grey-matrix"
    price = 2
    uses_seed = False

    def prepare(self, request, model, seed, limits):
        return Prepared(request, seed, {"image": request.image.convert("RGB")}, shared={})

    def forward(self, model, batch, on_step):
        greys = [np.asarray(item.model_input["image"], dtype=np.float32) @ model.pipe for item in batch]
        on_step(1, 1)
        return [Image.fromarray(grey.round().clip(0, 255).astype(np.uint8), "L").convert("RGB") for grey in greys]

    def finish(self, prepared, output):
        return output
'''


@pytest.fixture(scope="module")
def grey_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    folder = tmp_path_factory.mktemp("plugin")
    module_path = folder / "grayscale_op.py"
    module_path.write_text(textwrap.dedent(GRAYSCALE))
    spec = importlib.util.spec_from_file_location("grayscale_op", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["grayscale_op"] = module
    spec.loader.exec_module(module)
    registry.register(module.Grayscale())
    try:
        yield from serve_app(make_settings(tmp_path_factory.mktemp("grey-data"), tiny_models))
    finally:
        registry.unregister("grayscale")
        sys.modules.pop("grayscale_op", None)


def test_the_api_offers_it_and_it_runs_for_its_price(grey_app, tmp_path):
    user = grey_app.new_user(credits=10)
    key, _ = grey_app.studio.accounts.api_keys.create(user.id, "tests")
    client = Client(grey_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/grayscale"]["parameters"]] == ["image"]
    photo = tmp_path / "photo.png"
    samples.noise(40, 30).save(photo)
    before = grey_app.studio.ledger.balance(user.id).available
    result, seed, run_id, recipe = client.predict(handle_file(str(photo)), api_name="/grayscale")
    import base64
    import io

    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(result["url"].split(",", 1)[1]))).convert("RGB"))
    assert picture.shape == (30, 40, 3) and seed is None and len(run_id) == 32
    assert recipe["operation"] == "grayscale" and recipe["run_id"] == run_id  # its recipe comes for free
    assert (picture[..., 0] == picture[..., 1]).all() and (picture[..., 1] == picture[..., 2]).all()  # grey
    assert grey_app.studio.ledger.balance(user.id).available == before - 2


def test_the_price_list_health_and_metrics_name_it(grey_app):
    assert ("grayscale", 2) in price_list(grey_app.studio.settings)
    health = httpx.get(f"{grey_app.url}healthz").json()
    assert health["operations"]["grayscale"]["model"] == "studio/grey"
    metrics = httpx.get(f"{grey_app.url}metrics").text
    assert 'studio_runs_total{operation="grayscale",status="ok"}' in metrics


@pytest.mark.parametrize(("locale", "label", "run"), [("en-US", "Make it grey", "Run · 2 credits"),
                                                      ("sv-SE", "Gör den grå", "Kör · 2 krediter")])
def test_the_page_offers_it_in_every_language(grey_app, browser, locale, label, run):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        context.add_cookies([grey_app.session_cookie()])
        studio = StudioPage(page, grey_app.url)
        studio.page.click(f"#operation label:has-text('{label}')")
        page.wait_for_function(f"document.querySelector('#run').innerText.includes({run!r})", timeout=TIMEOUT_MS)
        page.wait_for_selector("#prompt", state="hidden", timeout=TIMEOUT_MS)  # it takes no words
    finally:
        context.close()


def test_nothing_in_the_repository_names_it():
    root = Path(__file__).resolve().parents[1]
    sources = [p for p in root.rglob("*.py") if ".venv" not in p.parts and p != Path(__file__).resolve()]
    assert not [p for p in sources if "grayscale" in p.read_text(encoding="utf-8")]
