"""Loading models while others load: every operation asked for at once, while the default model preloads.

diffusers and transformers build modules under accelerate's process-wide "empty weights" patch, so a
module built in another thread meanwhile gets meta tensors ("Cannot copy out of meta tensor"). This
app starts with its own empty tiny-model folder, so the tiny builds race too, and PRELOAD_OPERATION
"default" puts a load in flight when the requests arrive. pipelines/loaders.py's BUILDING lock
must keep every build and load apart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from pipelines.registry import OPERATIONS
from tests import samples
from tests.conftest import LiveApp, make_settings, serve_app
from tests.ui.test_api_client import expected, picture


@pytest.fixture(scope="module")
def cold_app(tmp_path_factory) -> Iterator[LiveApp]:
    data = tmp_path_factory.mktemp("cold")
    settings = make_settings(data, data / "tiny-models", preload_operation="default")  # nothing built yet
    yield from serve_app(settings)


def test_every_operation_at_once_while_the_default_model_preloads(cold_app, tmp_path):
    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    samples.noise(64, 48).save(photo)
    painted = Image.new("L", (64, 48), 0)
    painted.paste(255, (16, 12, 40, 30))
    painted.save(mask)
    key = cold_app.api_key()
    results: dict[str, object] = {}
    start = threading.Barrier(len(OPERATIONS))

    def call(op_id: str) -> None:
        op = OPERATIONS[op_id]
        kwargs = dict(op.examples)
        if op.masked:
            kwargs["mask"] = handle_file(str(mask))
        client = Client(cold_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
        start.wait(timeout=60)
        try:
            results[op_id] = picture(client.predict(api_name=f"/{op_id}", **samples.api_picture(op, str(photo)),
                                                    **kwargs)[0])
        except Exception as exc:  # noqa: BLE001 - reported below, per operation
            results[op_id] = exc

    threads = [threading.Thread(target=call, args=(op_id,)) for op_id in OPERATIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    failed = {op_id: result for op_id, result in results.items() if isinstance(result, Exception)}
    assert not failed, failed
    assert set(results) == set(OPERATIONS)
    for op_id, image in results.items():
        assert (image.size, image.mode) == expected(op_id)
