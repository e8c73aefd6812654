"""The /compare endpoint through the served app: a 2×2 grid for one hold and one charge; refusals in a sentence."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from tests import samples

PIX2PIX, KLEIN = "timbrooks/instruct-pix2pix", "black-forest-labs/FLUX.2-klein-4B"


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "photo.png"
    samples.noise(48, 40).save(path)
    return str(path)


def client_for(live_app, user) -> Client:
    key, _ = live_app.studio.accounts.api_keys.create(user.id, "tests")
    return Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})


def run_entries(live_app, user) -> list[tuple[str, int, int]]:
    return [(e.kind, e.amount, e.held) for e in reversed(live_app.studio.ledger.history(user.id)) if e.source == "run"]


def decoded(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_a_two_by_two_compare_returns_a_sheet_cells_with_recipes_and_a_csv(live_app, photo):
    user = live_app.new_user(credits=20)
    client = client_for(live_app, user)
    sheet, grid, table = client.predict(handle_file(photo), "make it snowy", [PIX2PIX, KLEIN], [2], [], [1, 2],
                                        "instruct_edit", api_name="/compare")
    assert decoded(sheet["url"]).size[0] >= 2 * 256  # two cells a row (a model's), under the original
    cells = grid["cells"]
    assert [(c["model"], c["seed"]) for c in cells] == [(PIX2PIX, 1), (PIX2PIX, 2), (KLEIN, 1), (KLEIN, 2)]
    assert all(decoded(c["image"]).size == (48, 40) and c["recipe"]["seed"] == c["seed"] for c in cells)
    assert all(c["steps"] == 2 and c["credits"] == 4 and c["recipe"]["measurements"]["wall_s"] > 0 for c in cells)
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["model"], r["seed"], r["status"], r["credits"]) for r in rows] == \
        [(PIX2PIX, "1", "ok", "4"), (PIX2PIX, "2", "ok", "4"), (KLEIN, "1", "ok", "4"), (KLEIN, "2", "ok", "4")]
    assert "snowy" not in table  # the prompt is in the recipes only
    assert (grid["held"], grid["credits"]) == (16, 16)
    assert run_entries(live_app, user) == [("hold", 0, 16), ("capture", -16, -16)]


@pytest.mark.parametrize(("models", "steps", "seeds", "sentence"), [
    ([PIX2PIX, KLEIN], [1, 2, 3], [1, 2, 3], "at most 16 results; these lists make 18"),
    ([PIX2PIX, "no/such-model"], [2], [], "'no/such-model' is not one of the models offered"),
    ([PIX2PIX, KLEIN], [2, 3], [1], "costs 16 credits and you have 10"),
])
def test_a_refused_compare_says_why_and_charges_nothing(live_app, photo, models, steps, seeds, sentence):
    user = live_app.new_user(credits=0)  # the 10 sign-up credits
    with pytest.raises(Exception, match=sentence):
        client_for(live_app, user).predict(handle_file(photo), "make it snowy", models, steps, [], seeds,
                                           "instruct_edit", api_name="/compare")
    assert run_entries(live_app, user) == []
    assert live_app.studio.ledger.balance(user.id).available == 10
