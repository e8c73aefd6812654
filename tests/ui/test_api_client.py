"""gradio_client against the launched app: every operation endpoint, and bad inputs over the API."""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from pipelines.base import EditRequest
from pipelines.registry import OPERATIONS
from tests import samples

SIZE = (64, 48)


def expected(op_id: str) -> tuple[tuple[int, int], str]:
    """(size, mode) of the result for a 64x48 RGB input and the operation's own example arguments."""
    op = OPERATIONS[op_id]
    request = EditRequest(op_id, samples.noise(*SIZE), **op.examples)
    return op.output_size(request), op.output_mode or "RGB"


@pytest.fixture(scope="module")
def key(live_app) -> str:
    return live_app.api_key()


@pytest.fixture(scope="module")
def client(live_app, key) -> Client:
    return Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "photo.png"
    samples.noise(64, 48).save(path)
    return str(path)


@pytest.fixture
def mask(tmp_path) -> str:
    path = tmp_path / "mask.png"
    image = Image.new("L", (64, 48), 0)
    image.paste(255, (16, 12, 40, 30))
    image.save(path)
    return str(path)


def picture(result: dict) -> Image.Image:
    assert result["url"].startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(result["url"].split(",", 1)[1])))


def test_every_operation_has_an_endpoint_named_after_it(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for op_id, op in OPERATIONS.items():
        names = [p["parameter_name"] for p in endpoints[f"/{op_id}"]["parameters"]]
        assert names == list(op.inputs)


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_endpoint_returns_picture_seed_run_id_and_recipe(client, photo, mask, op_id):
    kwargs = dict(OPERATIONS[op_id].examples)
    if OPERATIONS[op_id].masked:
        kwargs["mask"] = handle_file(mask)
    result, seed, run_id, recipe = client.predict(api_name=f"/{op_id}", **samples.api_picture(OPERATIONS[op_id], photo),
                                                  **kwargs)
    image = picture(result)
    assert (image.size, image.mode) == expected(op_id)
    assert not image.info.get("exif") and "parameters" not in image.info
    assert len(run_id) == 32
    assert seed == (OPERATIONS[op_id].examples.get("seed") if OPERATIONS[op_id].uses_seed else None)
    assert recipe["operation"] == op_id and recipe["run_id"] == run_id and recipe["seed"] == seed
    assert recipe["sizes"]["output"] == list(image.size) and recipe["model"]["revision"] == "tiny"


@pytest.mark.parametrize("op_id", ["instruct_edit", "inpaint"])
def test_replay_over_the_api_gives_the_same_pixels_for_the_same_price(live_app, client, key, photo, mask, op_id):
    op = OPERATIONS[op_id]
    files = [handle_file(photo), handle_file(mask)] if op.masked else [handle_file(photo)]
    kwargs = dict(op.examples, **({"mask": files[1]} if op.masked else {}))
    result, _seed, run_id, recipe = client.predict(image=files[0], api_name=f"/{op_id}", **kwargs)
    user_id = live_app.studio.accounts.api_keys.resolve(key)
    before = live_app.studio.ledger.balance(user_id).available

    again, seed, again_id, again_recipe = client.predict(json.dumps(recipe), files, api_name="/replay")

    assert picture(again).tobytes() == picture(result).tobytes()
    assert seed == recipe["seed"] and again_id != run_id
    assert again_recipe["replay_of"] == {"run_id": run_id, "differences": []}
    assert before - live_app.studio.ledger.balance(user_id).available == live_app.studio.paid_runs.price(
        EditRequest(op_id, samples.noise(*SIZE), **op.examples))  # charged like the operation
    assert not list(live_app.studio.upload_root.rglob("*.png"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda recipe: "{not json", "not JSON"),
    (lambda recipe: json.dumps({**recipe, "operation": "sharpen"}), "does not offer"),
    (lambda recipe: json.dumps({**recipe, "parameters": {**recipe["parameters"], "model": "x/y"}}), "not offered"),
    (lambda recipe: json.dumps({**recipe, "parameters": {**recipe["parameters"], "steps": 0}}), "Steps"),
], ids=["not-json", "unknown-operation", "model-not-offered", "steps-out-of-range"])
def test_a_refused_recipe_is_a_sentence_and_charges_nothing(live_app, client, key, photo, change, message):
    _result, _seed, _run, recipe = client.predict(handle_file(photo), "make it snowy", 2, None, 11,
                                                  api_name="/instruct_edit")
    user_id = live_app.studio.accounts.api_keys.resolve(key)
    before = live_app.studio.ledger.balance(user_id)
    with pytest.raises(Exception, match=message):
        client.predict(change(recipe), [handle_file(photo)], api_name="/replay")
    assert live_app.studio.ledger.balance(user_id) == before
    assert not list(live_app.studio.upload_root.rglob("*.png"))


@pytest.mark.parametrize("op_id", ["instruct_edit", "inpaint", "outpaint"])
def test_flux2_klein_is_offered_through_the_api(client, photo, mask, op_id):
    kwargs = dict(OPERATIONS[op_id].examples, model="black-forest-labs/FLUX.2-klein-4B")
    if OPERATIONS[op_id].masked:
        kwargs["mask"] = handle_file(mask)
    result, _seed, _run, _recipe = client.predict(image=handle_file(photo), api_name=f"/{op_id}", **kwargs)
    image = picture(result)
    assert (image.size, image.mode) == expected(op_id)


def test_left_out_parameters_take_the_pages_defaults(client, photo):
    """The API and the page share each input's default: outpaint extends left and right by 25%."""
    result, _seed, _run, _recipe = client.predict(handle_file(photo), api_name="/outpaint")
    assert picture(result).size == (64 + 16 + 16, 48)


def test_same_seed_same_pixels_over_the_api(client, photo):
    first = client.predict(handle_file(photo), "make it snowy", 2, None, 11, api_name="/instruct_edit")
    again = client.predict(handle_file(photo), "make it snowy", 2, None, 11, api_name="/instruct_edit")
    assert picture(first[0]).tobytes() == picture(again[0]).tobytes()


def test_an_inline_data_url_works_without_any_upload(live_app, client):
    from ui.views import image_data

    payload = image_data(samples.noise(64, 48), "inline.png")
    result, _seed, _run, _recipe = client.predict(payload, 2, api_name="/upscale")
    assert picture(result).size == (128, 96)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.png", "empty"),
        (samples.truncated_png(), "cut.png", "damaged"),
        (samples.TEXT, "notes.png", "not an image"),
        (samples.SVG, "drawing.svg", "SVG"),
        (samples.HTML, "page.png", "HTML"),
        (samples.bomb_png(), "bomb.png", "megapixels"),
        (samples.animated_gif(), "anim.gif", "GIF"),
        (samples.png(1, 1), "dot.png", "at least 16"),
        (samples.png(8000, 8), "strip.png", "at least 16"),
    ],
    ids=["zero-byte", "truncated", "text-as-png", "svg", "html", "bomb", "gif", "1x1", "8000x8"],
)
def test_bad_uploads_get_a_clear_error_and_the_app_stays_healthy(live_app, client, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(path)), 2, api_name="/upscale")
    assert httpx.get(live_app.url + "healthz").status_code == 200
    # the upload is gone from Gradio's folder even though it was refused
    assert not list(live_app.studio.upload_root.rglob(name))


@pytest.mark.parametrize(
    ("op_id", "kwargs", "message"),
    [
        ("instruct_edit", dict(prompt=""), "type an instruction"),
        ("instruct_edit", dict(prompt="x" * 100_000), "100,000 characters"),
        ("instruct_edit", dict(prompt="ok", model="someone/unknown-model"), "not one of the models"),
        ("inpaint", dict(prompt="a cat"), "Paint over"),
        ("restyle", dict(prompt="ink", strength=5), "Strength"),
        ("upscale", dict(scale=3), "2 or by 4"),
        ("outpaint", dict(directions=["sideways"]), "Unknown direction"),
        ("instruct_edit", dict(prompt="ok", steps=0), "Steps"),
        ("select", dict(), "Click on the picture, drag a box or name what to select"),
        ("select", dict(points=[[64.5, 10, 1]]), "outside the picture"),
        ("select", dict(points=[[1, 1, 1]] * 1000), "1,000 points is too many"),
        ("select", dict(points="[[1, 2, 7]]"), "for example"),
        ("select", dict(box=[10, 10, 10, 40]), "no area inside the picture"),
        ("select", dict(box=[1, 2, 3]), "four numbers"),
        ("select", dict(text="x" * 10_000), "10,000 characters"),
    ],
    ids=["empty-instruction", "100k-instruction", "unknown-model", "no-mask", "strength", "scale", "direction",
         "steps", "select-nothing", "point-outside", "1000-points", "bad-label", "flat-box", "three-corners",
         "10k-words"],
)
def test_bad_parameters_get_a_clear_error(client, photo, op_id, kwargs, message):
    with pytest.raises(Exception, match=message):
        client.predict(image=handle_file(photo), api_name=f"/{op_id}", **kwargs)


def test_mask_problems_are_explained(client, photo, tmp_path):
    transparent = tmp_path / "clear.png"
    Image.new("RGBA", (64, 48), (0, 0, 0, 0)).save(transparent)
    with pytest.raises(Exception, match="mask is empty"):
        client.predict(handle_file(photo), handle_file(str(transparent)), "x", api_name="/inpaint")
    wrong = tmp_path / "small.png"
    Image.new("L", (32, 32), 255).save(wrong)
    with pytest.raises(Exception, match="same size"):
        client.predict(handle_file(photo), handle_file(str(wrong)), "x", api_name="/inpaint")


def call_raw(base_url: str, api_name: str, data: list, key: str) -> str:
    """POST /gradio_api/call/<api> with a hand-made payload, return the event stream's text."""
    headers = {"Authorization": f"Bearer {key}"}
    event = httpx.post(f"{base_url}gradio_api/call/{api_name}", json={"data": data}, headers=headers).json()
    url = f"{base_url}gradio_api/call/{api_name}/{event['event_id']}"
    with httpx.stream("GET", url, timeout=60, headers=headers) as stream:
        return "".join(stream.iter_text())


def test_paths_outside_the_upload_folder_are_never_read(live_app, key, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(samples.png(32, 32))  # a real picture: it must not be read because of where it is
    answer = call_raw(live_app.url, "upscale", [{"path": str(secret), "meta": {"_type": "gradio.FileData"}}, 2], key)
    assert "event: error" in answer
    assert "data:image" not in answer
    assert secret.exists()  # and never deleted either


def test_identical_uploads_at_the_same_time_all_work(live_app, key, photo):
    """Gradio files uploads by content hash; each request must still get its own copy to read and delete."""
    import threading

    results, errors = [], []

    def call() -> None:
        try:
            own = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
            results.append(own.predict(handle_file(photo), 2, api_name="/upscale"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 6
    assert [p for p in live_app.studio.upload_root.rglob("*") if p.is_file()] == []


def test_select_by_words_with_a_soft_grown_edge_over_the_api(client, photo):
    result, seed, run_id, _recipe = client.predict(image=handle_file(photo), text="the sky", refine=True, grow=2,
                                                   api_name="/select")
    image = picture(result)
    assert (image.size, image.mode) == ((64, 48), "L") and seed is None and len(run_id) == 32
