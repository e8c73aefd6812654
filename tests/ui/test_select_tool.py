"""The canvas's Select tool: in Chromium, a click selects, the overlay shows, inpaint erases it and nothing
outside changes; and the page's handler answers every bad question with a sentence, never a traceback."""

from __future__ import annotations

import base64
import io
import uuid

import gradio as gr
import numpy as np
import pytest
from PIL import Image, ImageDraw
from starlette.requests import Request

from pipelines import segmenting
from pipelines.geometry import grow
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from ui import views
from ui.account import AccountHandlers
from ui.handlers import StudioHandlers
from ui.i18n import text

SIZE = (96, 64)
OBJECT = (36, 18, 62, 44)  # a blue square on a plain sand-coloured background


def picture() -> Image.Image:
    image = Image.new("RGB", SIZE, (214, 196, 160))
    ImageDraw.Draw(image).rectangle(OBJECT, fill=(20, 60, 200))
    return image


def decoded(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


# ------------------------------------------------------------------ in Chromium


@pytest.fixture
def studio(page, live_app):
    page.context.add_cookies([live_app.session_cookie()])
    return StudioPage(page, live_app.url)


MASK_SHOWN = """() => {
  const canvas = document.querySelector('#canvas canvas.cv-mask');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return canvas.toDataURL('image/png');
  return null;
}"""


def test_click_an_object_see_the_overlay_erase_it_and_nothing_outside_changes(studio, tmp_path):
    path = tmp_path / "square.png"
    picture().save(path)
    studio.upload(path)
    studio.choose("Inpaint")
    studio.page.click("#canvas .cv-mode-select")
    assert studio.page.get_attribute("#canvas .cv-mode-select", "aria-pressed") == "true"
    canvas = studio.page.wait_for_selector("#canvas canvas.cv-mask", state="visible", timeout=TIMEOUT_MS)
    box = canvas.bounding_box()
    centre = ((OBJECT[0] + OBJECT[2]) / 2 / SIZE[0], (OBJECT[1] + OBJECT[3]) / 2 / SIZE[1])
    studio.page.mouse.click(box["x"] + box["width"] * centre[0], box["y"] + box["height"] * centre[1])
    assert studio.page.locator("#canvas .cv-marks span.add").count() == 1  # the click, marked at once
    studio.page.wait_for_function(MASK_SHOWN, timeout=TIMEOUT_MS)  # the overlay, drawn into the painted layer
    assert studio.page.inner_text("#canvas .cv-say") == ""  # no sentence: it worked
    # The tiny SAM stand-in's mask is random-ish (here most of the picture): the eraser takes the left part
    # away again, as a visitor trims a selection, so there is an outside to check.
    studio.page.click("#canvas .cv-mode-brush")
    studio.page.click("#canvas .cv-erase")
    studio.page.eval_on_selector("#canvas .cv-size", "el => { el.value = 160; }")
    for step in range(11):
        y = box["y"] + box["height"] * step / 10
        studio.page.mouse.move(box["x"] + 2, y)
        studio.page.mouse.down()
        studio.page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=4)
        studio.page.mouse.up()
    sent_url = studio.page.evaluate("() => document.querySelector('#canvas canvas.cv-mask').toDataURL('image/png')")
    sent = decoded(sent_url).getchannel("A").point(lambda v: 255 if v > 127 else 0)
    assert sent.size == SIZE and sent.getbbox() is not None and sent.getbbox()[0] > 0

    studio.run()  # inpaint with an empty prompt: erase what is selected
    result = np.asarray(studio.downloaded_image().convert("RGB"))
    original = np.asarray(picture())
    changed = np.any(result != original, axis=2)
    selected = np.asarray(sent) > 0
    assert changed[selected].any()
    # Inpaint fades its patch in just outside the mask so no seam shows (pipelines/ops/inpaint.py: the mask
    # grown by `edge` = 3 px on a picture this small, then softened over 3 px more); every pixel beyond that
    # band is byte-identical.
    band = 2 * 3
    outside = np.asarray(grow(sent, band)) == 0
    assert outside.any() and not changed[outside].any()


def test_on_the_page_empty_words_and_a_flat_drag_say_why_next_to_the_tools(studio, tmp_path):
    path = tmp_path / "square.png"
    picture().save(path)
    studio.upload(path)
    studio.choose("Restyle")  # restyle-in-region: the masked edits all have the Select tool
    studio.page.click("#canvas .cv-mode-select")
    studio.page.click("#canvas .cv-find")
    said = studio.page.locator("#canvas .cv-say.error")
    said.filter(has_text="Type what to select first").wait_for(timeout=TIMEOUT_MS)
    box = studio.page.locator("#canvas canvas.cv-mask").bounding_box()
    y = box["y"] + box["height"] / 2
    studio.page.mouse.move(box["x"] + 10, y)
    studio.page.mouse.down()
    studio.page.mouse.move(box["x"] + box["width"] - 10, y, steps=5)  # a drag with no height: no box
    studio.page.mouse.up()
    said.filter(has_text="The box has no area inside the picture").wait_for(timeout=TIMEOUT_MS)
    assert studio.page.locator("#canvas .cv-marks div").count() == 0  # the refused box is not kept
    assert studio.page.evaluate(MASK_SHOWN) is None


# ------------------------------------------------------------------ the handler, with bad questions


@pytest.fixture
def handlers(live_app):
    return StudioHandlers(live_app.studio, AccountHandlers(live_app.studio.accounts))


def request_for(live_app, *, signed_in: bool = True, lang: str = "en") -> gr.Request:
    headers = [(b"accept-language", lang.encode()), (b"host", b"127.0.0.1")]
    if signed_in:
        cookie = live_app.session_cookie()
        headers.append((b"cookie", f"{cookie['name']}={cookie['value']}".encode()))
    scope = {"type": "http", "method": "POST", "path": "/", "scheme": "http", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    return gr.Request(request=Request(scope), session_hash=uuid.uuid4().hex)


def ask(handlers, request, **data) -> dict:
    return handlers.selection(gr.EventData(None, {"n": 7, **data}), request)


@pytest.fixture
def tab(handlers, live_app):
    """A signed-in tab showing the picture; the ledger's balance, to check nothing was charged."""
    request = request_for(live_app)
    handlers._session(request).start(picture())
    user_id = handlers.account.user_id(request)
    return request, lambda: handlers.ledger.balance(user_id).available


def test_a_click_answers_a_mask_layer_at_the_pictures_size_and_charges_nothing(handlers, tab):
    request, balance = tab
    before = balance()
    answer = ask(handlers, request, action="select", points=[[48, 30, 1]])
    assert answer["n"] == 7 and not answer.get("error") and answer["say"] == ""
    layer = decoded(answer["layer"])
    assert (layer.mode, layer.size) == ("RGBA", SIZE)
    assert balance() == before


@pytest.mark.parametrize(("data", "sentence"), [
    ({"action": "select", "points": [[200, 30, 1]]}, "Point 1 (200, 30) is outside the picture (96 × 64 pixels)."),
    ({"action": "select", "points": [[-5, 30, 1]]}, "is outside the picture"),
    ({"action": "select", "box": [10, 20, 60, 20]}, "The box has no area inside the picture"),
    ({"action": "select", "box": [120, 70, 150, 90]}, "The box has no area inside the picture"),
    ({"action": "select"}, "Click on the picture, drag a box or name what to select."),
    ({"action": "select", "points": "[[1, 2"}, "Points must be a list of [x, y, label]"),
    ({"action": "words", "text": "   "}, "Type what to select first"),
    ({"action": "words", "text": "x" * 300}, "The text is 300 characters long"),
    ({"action": "grow", "by": "0", "mask": None}, "from 1 to 200"),
    ({"action": "shrink", "by": "1e9", "mask": None}, "from 1 to 200"),
    ({"action": "grow", "by": "two", "mask": None}, "from 1 to 200"),
    ({"action": "invert", "mask": "data:image/png;base64,AAAA"}, "The painted mask could not be read"),
    ({"action": "rotate"}, "does not do"),
])
def test_bad_questions_get_a_sentence_and_charge_nothing(handlers, tab, data, sentence):
    request, balance = tab
    before = balance()
    answer = ask(handlers, request, **data)
    assert answer["error"] is True and sentence in answer["say"] and "layer" not in answer
    assert "Traceback" not in answer["say"]
    assert balance() == before


def test_the_sentences_come_in_swedish_on_a_swedish_page(handlers, live_app):
    request = request_for(live_app, lang="sv")
    handlers._session(request).start(picture())
    answer = ask(handlers, request, action="words", text="")
    assert answer["say"] == text("canvas.no_words", "sv")
    answer = ask(handlers, request, action="select", points=[[200, 30, 1]])
    assert "ligger utanför bilden" in answer["say"]


def test_no_picture_or_no_sign_in_is_a_sentence(handlers, live_app):
    answer = ask(handlers, request_for(live_app), action="select", points=[[4, 4, 1]])
    assert answer["say"] == text("handlers.no_photo", "en")
    guest = request_for(live_app, signed_in=False)
    handlers._session(guest).start(picture())
    answer = ask(handlers, guest, action="select", points=[[4, 4, 1]])
    assert answer["error"] and answer["say"] == text("account.sign_in_first", "en")


def test_words_that_match_nothing_give_an_empty_mask_the_sentence_and_no_charge(handlers, tab, monkeypatch):
    monkeypatch.setattr(segmenting, "FOUND_SCORE", 1.0)  # no score reaches it: nothing is found
    request, balance = tab
    before = balance()
    answer = ask(handlers, request, action="words", text="a purple elephant")
    assert not answer.get("error")
    assert answer["say"] == "Nothing matching \u201ca purple elephant\u201d was found in the picture."
    assert decoded(answer["layer"]).getchannel("A").getbbox() is None
    assert balance() == before


def test_invert_grow_and_shrink_change_the_painted_mask_in_picture_pixels(handlers, tab):
    request, _ = tab
    square = Image.new("L", SIZE, 0)
    square.paste(255, (40, 20, 50, 30))
    painted = views.mask_layer(square)

    def alpha(answer) -> np.ndarray:
        assert not answer.get("error"), answer
        return np.asarray(decoded(answer["layer"]).getchannel("A")) > 0

    assert alpha(ask(handlers, request, action="grow", by="4", mask=painted)).sum() == 18 * 18
    assert alpha(ask(handlers, request, action="shrink", by=2, mask=painted)).sum() == 6 * 6
    inverted = alpha(ask(handlers, request, action="invert", mask=painted))
    assert inverted.sum() == SIZE[0] * SIZE[1] - 100 and not inverted[25, 45]
    assert alpha(ask(handlers, request, action="invert", mask=None)).all()  # nothing selected: now everything
