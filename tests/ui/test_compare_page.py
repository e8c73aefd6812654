"""The Compare tab in Chromium: the Studio tab's picture through two models, priced before running, shown as a
labelled grid with each cell's recipe, a contact sheet and a CSV to download."""

from __future__ import annotations

import base64
import io
import os

from PIL import Image

from tests import samples
from tests.ui.studio_page import TIMEOUT_MS, StudioPage


def test_a_small_compare_runs_on_the_studio_picture_and_shows_its_grid(page, live_app, tmp_path):
    photo = tmp_path / "photo.png"
    samples.noise(64, 48, seed=2).save(photo)
    page.context.add_cookies([live_app.session_cookie()])
    studio = StudioPage(page, live_app.url)
    studio.upload(photo)
    page.locator(".tab-wrapper [role=tab]").filter(has_text="Compare").first.click()
    page.wait_for_selector("#compare-models input[type=checkbox]", timeout=TIMEOUT_MS)
    page.fill("#compare-prompt textarea", "make it snowy")
    page.get_by_label("FLUX.2 [klein] 4B", exact=False).check()  # InstructPix2Pix, the default, is ticked
    page.fill("#compare-steps textarea, #compare-steps input", "1")
    page.locator("#compare-seeds textarea, #compare-seeds input").fill("7")
    page.locator("#compare-seeds textarea, #compare-seeds input").blur()
    page.wait_for_function("document.querySelector('#compare-run').innerText.includes('Run 2 · 8 credits')",
                           timeout=TIMEOUT_MS)
    page.click("#compare-run")
    page.wait_for_function("document.querySelectorAll('#compare-grid figure img').length === 2", timeout=TIMEOUT_MS)
    captions = page.locator("#compare-grid figcaption").all_inner_texts()
    assert "InstructPix2Pix" in captions[0] and "steps 1" in captions[0] and "seed 7" in captions[0]
    assert "FLUX.2 [klein] 4B" in captions[1] and "steps 1" in captions[1] and "4 credits" in captions[1]
    assert page.locator("#compare-grid a.compare-recipe").count() == 2
    assert "2 results · 8 credits charged." in page.inner_text("#compare-run-message")
    sheet = page.get_attribute("#compare-sheet", "href")
    assert Image.open(io.BytesIO(base64.b64decode(sheet.split(",", 1)[1]))).size[0] == 2 * (256 + 16)  # side by side
    table = base64.b64decode(page.get_attribute("#compare-csv", "href").split(",", 1)[1]).decode()
    assert table.count("\n") == 3 and "snowy" not in table
    other = tmp_path / "other.png"
    samples.noise(40, 30, seed=4).save(other)
    page.set_input_files("#compare-picture input[type=file]", str(other))  # becomes the Studio tab's picture too
    page.wait_for_function("document.querySelector('#compare-source').innerText.includes('40×30')",
                           timeout=TIMEOUT_MS)
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['SCREENSHOTS']}/compare-ran.png", full_page=True)
