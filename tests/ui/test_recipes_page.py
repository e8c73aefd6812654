"""The Studio page offers each result's recipe beside its download, and replays a pasted recipe."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests import samples
from tests.ui.studio_page import TIMEOUT_MS, StudioPage


def test_the_recipe_link_carries_the_json_itself_so_nothing_is_written_on_the_server():
    import base64
    import html
    import re

    from pipelines.sessions import StudioSession
    from ui.views import download_link

    session = StudioSession(max_history=4)
    session.start(samples.noise(32, 24), label="Original")
    assert "recipe-link" not in download_link(session.current)
    recipe = {"format": "studio-recipe/1", "operation": "restyle", "parameters": {"prompt": "ink <b>&</b>"}}
    session.add(samples.noise(32, 24, seed=2), "Restyle", seed=1, run_id="ab" * 16, recipe=recipe)
    shown = download_link(session.current, "sv")
    url = html.unescape(re.search(r'id="download-link".*?href="([^"]+)" download="(studio-abababab.recipe.json)"',
                                  shown).group(1))
    assert url.startswith("data:application/json;base64,")
    assert json.loads(base64.b64decode(url.split(",", 1)[1])) == recipe
    assert "Recept (JSON)" in shown and "ink &lt;b&gt;&amp;&lt;/b&gt;" in shown  # shown folded, escaped


@pytest.fixture
def studio(page, live_app):
    page.context.add_cookies([live_app.session_cookie()])
    return StudioPage(page, live_app.url)


def test_a_result_s_recipe_downloads_beside_it_and_replays_to_the_same_pixels(studio, tmp_path):
    photo = tmp_path / "holiday.png"
    samples.noise(96, 64, seed=5).save(photo)
    studio.upload(photo)
    assert not studio.page.is_visible("#recipe-link")  # the original has no recipe
    studio.type_prompt("make it snowy")
    studio.set_steps(2)
    studio.run()
    _name, first = studio.download()
    name, data = studio.download_recipe()
    recipe = json.loads(data)
    assert name.endswith(".recipe.json") and recipe["operation"] == "instruct_edit"
    assert recipe["parameters"]["prompt"] == "make it snowy" and recipe["parameters"]["steps"] == 2

    studio.page.click("#undo")  # back to the original, and replay the recipe on it
    studio.page.wait_for_function("document.querySelector('#result-info').innerText.includes('Original')")
    before = studio.history_count()
    studio.replay(json.dumps(recipe))
    studio.page.wait_for_function(f"document.querySelectorAll('#history img').length > {before}",
                                  timeout=TIMEOUT_MS)
    _name, again = studio.download()
    assert Image.open(io.BytesIO(again)).tobytes() == Image.open(io.BytesIO(first)).tobytes()

    studio.replay("{ this is not a recipe")
    studio.wait_for_message("The recipe is not JSON")
    studio.choose("Upscale")
    studio.replay(json.dumps(recipe))
    studio.wait_for_message("The recipe is for edit with an instruction, not upscale")
