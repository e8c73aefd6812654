"""`compose` through the served app: gradio_client with 1 to 4 pictures of mixed sizes and modes, every bad input
a sentence with nothing charged and no upload left behind, and Chromium composing from two pictures on the page."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from pipelines.registry import OPERATIONS
from tests import samples
from tests.conftest import LiveApp, make_settings, serve_app, watched_page
from tests.ui.studio_page import StudioPage

KLEIN = "black-forest-labs/FLUX.2-klein-4B"
ONE_PICTURE_MODEL = "studio/one-picture-editor"  # offered by COMPOSE_MODELS, unknown to the studio: one picture
PRICE = 4


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    settings = make_settings(tmp_path_factory.mktemp("compose-app"), tiny_models,
                             compose_models=f"{KLEIN},{ONE_PICTURE_MODEL}")
    yield from serve_app(settings)


@pytest.fixture(scope="module")
def account(app):
    user = app.new_user(credits=1000)
    key, _ = app.studio.accounts.api_keys.create(user.id, "tests")
    return user, Client(app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Pictures of different sizes, shapes, formats and modes, and some that are not pictures at all."""
    folder = tmp_path_factory.mktemp("pictures")
    pictures = {
        "wide.png": samples.noise(96, 48, seed=1),
        "tall.png": samples.noise(24, 120, seed=2, mode="RGBA"),
        "grey.jpg": samples.noise(50, 50, seed=3).convert("L"),
        "small.webp": samples.noise(20, 20, seed=4),
    }
    for name, picture in pictures.items():
        picture.save(folder / name)
    (folder / "letter.pdf").write_bytes(b"%PDF-1.4 a letter, not a photo")
    (folder / "bomb.png").write_bytes(samples.bomb_png())
    return {name: str(folder / name) for name in [*pictures, "letter.pdf", "bomb.png"]}


def result_picture(result: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(result["url"].split(",", 1)[1])))


def uploads_left(app: LiveApp) -> list[Path]:
    return [path for path in app.studio.upload_root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("names", [["wide.png"], ["wide.png", "tall.png"],
                                   ["tall.png", "grey.jpg", "small.webp"],
                                   ["wide.png", "tall.png", "grey.jpg", "small.webp"]],
                         ids=["1", "2", "3-transparent-first", "4"])
def test_one_to_four_pictures_give_the_first_pictures_size_for_one_price(app, account, files, names):
    user, client = account
    before = app.studio.ledger.balance(user.id).available
    pictures = [handle_file(files[name]) for name in names]
    result, seed, run_id, _recipe = client.predict(pictures, "put picture 2 in picture 1", 1, None, 5,
                                                   api_name="/compose")
    first = Image.open(files[names[0]])
    picture = result_picture(result)
    assert picture.size == first.size and picture.mode == ("RGBA" if first.mode == "RGBA" else "RGB")
    assert seed == 5 and len(run_id) == 32
    assert app.studio.ledger.balance(user.id).available == before - PRICE
    assert uploads_left(app) == []


@pytest.mark.parametrize(
    ("names", "kwargs", "message"),
    [
        (["wide.png", "tall.png", "grey.jpg", "small.webp", "wide.png"], {},
         "At most 4 pictures can be combined; you gave 5."),
        (["wide.png", "tall.png", "letter.pdf", "small.webp"], {},
         "Picture 3 of 4: This file is a PDF, not a photo."),
        (["wide.png", "bomb.png"], {}, "Picture 2 of 2: The image has too many pixels"),
        (["wide.png", "tall.png"], {"prompt": "   "}, "Please say how to combine the pictures first"),
        (["wide.png", "tall.png"], {"model": ONE_PICTURE_MODEL},
         f"{ONE_PICTURE_MODEL} takes one picture only; you gave 2."),
        ([], {}, "Please give at least one picture."),
    ],
    ids=["five-pictures", "a-pdf-among-pictures", "over-the-pixel-limit", "empty-instruction", "one-picture-model",
         "no-pictures"],
)
def test_bad_input_is_a_sentence_and_nothing_is_charged_or_left(app, account, files, names, kwargs, message):
    user, client = account
    before = app.studio.ledger.balance(user.id).available
    arguments = {"prompt": "combine them", "steps": 1, **kwargs}
    with pytest.raises(Exception, match=message.replace(".", r"\.")):
        client.predict(images=[handle_file(files[name]) for name in names], api_name="/compose", **arguments)
    assert app.studio.ledger.balance(user.id).available == before
    assert uploads_left(app) == []


def test_very_different_shapes_keep_the_first_pictures_framing(account, files):
    _user, client = account
    result, _seed, _run, _recipe = client.predict([handle_file(files["tall.png"]), handle_file(files["wide.png"])],
                                                  "the wide one inside the tall one", 1, api_name="/compose")
    assert result_picture(result).size == (24, 120)


def test_the_one_picture_model_runs_with_one_picture(account, files):
    _user, client = account
    result, _seed, _run, _recipe = client.predict([handle_file(files["wide.png"])], "make it snowy", 1,
                                                  model=ONE_PICTURE_MODEL, api_name="/compose")
    assert result_picture(result).size == (96, 48)


def test_the_page_composes_from_two_pictures(app, browser, tmp_path, monkeypatch):
    photo, lamp = tmp_path / "room.png", tmp_path / "lamp.png"
    samples.noise(96, 64, seed=5).save(photo)
    samples.noise(40, 60, seed=6).save(lamp)
    user = app.new_user(credits=100)
    before = app.studio.ledger.balance(user.id).available
    compose, given = OPERATIONS["compose"], []
    prepare = compose.prepare
    monkeypatch.setattr(compose, "prepare", lambda request, *rest: given.append(
        [picture.size for picture in compose.pictures(request)]) or prepare(request, *rest))
    for page in watched_page(browser):
        page.context.add_cookies([app.session_cookie(user=user)])
        studio = StudioPage(page, app.url)
        studio.upload(photo)
        studio.choose("Combine pictures")
        studio.add_reference(lamp)
        assert studio.reference_count() == 1
        studio.add_reference(photo)
        studio.remove_reference(3)  # the visitor changes their mind: picture 3 goes, the lamp stays
        assert studio.reference_count() == 1
        studio.type_prompt("put the lamp from picture 2 on the table in picture 1")
        studio.set_steps(1)
        studio.run()
        assert studio.downloaded_image().size == (96, 64)
        assert given == [[(96, 64), (40, 60)]]  # the canvas, then the picture added beside it
        assert app.studio.ledger.balance(user.id).available == before - PRICE
        assert uploads_left(app) == []
