"""The Studio page in headless Chromium: what a visitor does, start to finish."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests import samples
from tests.ui.studio_page import TIMEOUT_MS, StudioPage


@pytest.fixture
def studio(page, live_app):
    page.context.add_cookies([live_app.session_cookie()])
    return StudioPage(page, live_app.url)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "holiday.png"
    samples.noise(96, 64, seed=3).save(path)
    return path


def test_upload_edit_compare_undo_download(studio, photo):
    studio.upload(photo)
    assert "Original" in studio.info()
    studio.type_prompt("make it snowy")
    studio.run()
    assert "Edit with an instruction" in studio.info() and "seed" in studio.info()
    sources = studio.slider_sources()
    assert len(sources) == 2 and all(src.startswith("data:image/png;base64,") for src in sources)

    studio.page.click("#undo")
    studio.page.wait_for_function("document.querySelector('#result-info').innerText.includes('Original')")
    studio.page.click("#redo")
    studio.page.wait_for_function("document.querySelector('#result-info').innerText.includes('instruction')")

    name, data = studio.download()
    result = Image.open(io.BytesIO(data))
    assert name.endswith(".png") and result.format == "PNG"
    assert result.size == (96, 64)
    assert not result.getexif() and not {"exif", "icc_profile", "parameters"} & set(result.info)


def test_inpaint_changes_only_the_painted_area(studio, photo):
    original = np.asarray(Image.open(photo).convert("RGB"))
    studio.upload(photo)
    studio.choose("Inpaint")
    studio.paint((0.4, 0.4, 0.6, 0.6))
    studio.run()
    result = np.asarray(studio.downloaded_image().convert("RGB"))
    assert result.shape == original.shape
    changed = np.any(result != original, axis=2)
    assert changed[26:38, 42:54].any()  # the middle, where the brush went
    assert not changed[:, :20].any() and not changed[:, -20:].any()  # the sides stay exactly as they were


def test_continue_editing_from_an_earlier_result(studio, photo):
    studio.upload(photo)
    studio.choose("Upscale")
    studio.run()
    assert "192×128" in studio.info()
    studio.page.click("#history button.thumbnail-item >> nth=0")
    studio.page.wait_for_function("document.querySelector('#result-info').innerText.includes('Original')")
    studio.choose("Remove background")
    studio.run()
    assert "96×64" in studio.info()  # made from the original, not from the upscaled picture
    assert studio.history_count() == 3


def test_the_picker_shows_what_each_operation_needs(studio):
    def shown(selector: str, state: str = "visible") -> None:  # the server answers the choice: on a busy machine, late
        studio.page.wait_for_selector(selector, state=state, timeout=TIMEOUT_MS)

    studio.choose("Extend")
    shown("text=By (% of the side)")
    studio.choose("Upscale")
    shown("text=Scale")
    shown("#prompt", "hidden")
    studio.choose("Inpaint")
    shown("#painter")
    shown("#prompt")


def test_errors_read_as_sentences(studio, photo):
    studio.run_expecting_message("Upload a photo first")
    studio.upload(photo)
    studio.type_prompt("")
    studio.run_expecting_message("type an instruction")
    studio.choose("Inpaint")
    studio.run_expecting_message("Paint over")
    studio.type_prompt("x" * 100_000)
    studio.choose("Edit with an instruction")
    studio.run_expecting_message("100,000 characters")
    assert "Traceback" not in studio.page.content()


def test_cancel_stops_a_long_run(studio, photo, live_app):
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.set_steps(150)  # ~10 s on the tiny model: long enough to press Cancel
    studio.page.click("#run")
    studio.page.wait_for_timeout(1500)
    studio.page.click("#cancel")
    studio.wait_for_message("Cancelled")
    assert studio.history_count() == 1
    last = live_app.studio.service.usage.recent(1)[0]
    assert last["status"] == "cancelled"


@pytest.fixture
def camera_page(browser, live_app):
    context = browser.new_context(permissions=["camera", "clipboard-read", "clipboard-write"])
    context.add_cookies([live_app.session_cookie()])
    page = context.new_page()
    StudioPage(page, live_app.url)
    yield page
    context.close()


def test_a_photo_can_be_pasted(camera_page):
    camera_page.evaluate("""async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 80; canvas.height = 60;
      canvas.getContext('2d').fillRect(0, 0, 80, 60);
      const blob = await new Promise(done => canvas.toBlob(done, 'image/png'));
      await navigator.clipboard.write([new ClipboardItem({'image/png': blob})]);
    }""")
    camera_page.click("#photo button[aria-label='Paste from clipboard']")
    camera_page.wait_for_function("document.querySelector('#result-info').innerText.includes('Original · 80×60')")


def test_a_photo_can_be_taken_with_the_webcam(camera_page):
    camera_page.click("#photo button[aria-label='Capture from camera']")
    camera_page.click("#photo button:has-text('Click to Access Webcam')")
    camera_page.wait_for_function(  # the fake camera is streaming
        "(v => v && v.readyState >= 2 && v.videoWidth > 0)(document.querySelector('#photo video'))"
    )
    camera_page.click("#photo button[aria-label='capture photo']")
    camera_page.wait_for_function("/Original · \\d+×\\d+/.test(document.querySelector('#result-info').innerText)")
