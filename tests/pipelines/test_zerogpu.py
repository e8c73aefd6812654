"""ZeroGPU's contract: the served app on a stand-in `spaces` that forks and pickles as ZeroGPU does.

tests/pipelines/zerogpu_standin.py runs the function given to `spaces.GPU` in a forked process and
pickles its arguments and return value, so anything that cannot cross (a Job with its Events and
closures, a model, a callback) fails here as it fails on Hugging Face. Not tested on real ZeroGPU
hardware: the stand-in's signature is checked against the real package when that is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterator

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from pipelines import zerogpu
from pipelines.base import Prepared
from pipelines.registry import OPERATIONS
from tests import samples
from tests.conftest import LiveApp, make_settings, require, serve_app
from tests.pipelines import zerogpu_standin
from tests.ui.test_api_client import expected, picture

CAP_S = 45


@pytest.fixture(scope="module")
def zero_gpu_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """The whole app built as on a ZeroGPU Space (SPACES_ZERO_GPU set), with the stand-in as `spaces`."""
    settings = make_settings(tmp_path_factory.mktemp("zerogpu"), tiny_models, zero_gpu_duration_s=CAP_S)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPACES_ZERO_GPU", "1")
        patch.setitem(sys.modules, "spaces", zerogpu_standin)
        served = serve_app(settings)
        app = next(served)
    yield app
    next(served, None)


@pytest.fixture(scope="module")
def client(zero_gpu_app) -> Client:
    key = zero_gpu_app.api_key()
    return Client(zero_gpu_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("zerogpu-files")
    samples.noise(64, 48).save(folder / "photo.png")
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (16, 12, 40, 30))
    mask.save(folder / "mask.png")
    return {"photo": str(folder / "photo.png"), "mask": str(folder / "mask.png")}


def test_the_app_hands_its_device_work_to_spaces_gpu(zero_gpu_app):
    assert isinstance(zero_gpu_app.studio.service.device_work, zerogpu.ZeroGpuWork)


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_every_operation_runs_through_the_fork_and_pickle_boundary(client, files, op_id):
    op = OPERATIONS[op_id]
    kwargs = dict(op.examples)
    if op.masked:
        kwargs["mask"] = handle_file(files["mask"])
    asked = len(zerogpu_standin.DURATIONS)
    result, seed, run_id, _recipe = client.predict(image=handle_file(files["photo"]), api_name=f"/{op_id}", **kwargs)
    image = picture(result)
    assert (image.size, image.mode) == expected(op_id)
    assert len(run_id) == 32 and seed == (op.examples.get("seed") if op.uses_seed else None)
    assert len(zerogpu_standin.DURATIONS) == asked + 1  # one GPU call for the run, with a duration
    assert 1 <= zerogpu_standin.DURATIONS[-1] <= CAP_S


def test_the_gpu_call_sees_the_visitors_request_so_zerogpu_bills_their_account(zero_gpu_app, files):
    """The real `spaces` reads the request's x-ip-token from Gradio's context to charge the visitor's quota."""
    key = zero_gpu_app.api_key()
    visitor = Client(zero_gpu_app.url, verbose=False, download_files=False,
                     headers={"Authorization": f"Bearer {key}", "X-IP-Token": "visitor-quota-token"})
    visitor.predict(image=handle_file(files["photo"]), api_name="/remove_background")
    seen = zerogpu_standin.REQUEST_HEADERS[-1]
    assert seen is not None and seen.get("x-ip-token") == "visitor-quota-token"


def test_an_error_in_the_worker_comes_back_as_a_sentence(zero_gpu_app, client, files, monkeypatch):
    """The worker sends back the error's class and message (plain values); the user reads the usual sentence."""
    op = OPERATIONS["upscale"]

    def broken(model, batch, on_step):
        raise ValueError("inside the worker")

    monkeypatch.setattr(op, "forward", broken)  # forked after this: the worker inherits it
    with pytest.raises(Exception, match="could not finish this edit"):
        client.predict(handle_file(files["photo"]), 2, api_name="/upscale")


def test_off_zero_gpu_the_work_runs_in_process(monkeypatch):
    """Without SPACES_ZERO_GPU nothing goes through spaces.GPU: the service calls forward directly, unpickled."""
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    monkeypatch.setitem(sys.modules, "spaces", zerogpu_standin)
    assert zerogpu.attach(None, 60) is None


def items(steps: int, size: tuple[int, int], batch: int = 1) -> list[Prepared]:
    return [Prepared(None, 1, {"image": Image.new("RGB", size)}, {"num_inference_steps": steps})] * batch


def test_the_duration_grows_with_steps_megapixels_and_batch_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(zerogpu, "_cap_s", 120)
    small = zerogpu.estimate_duration("restyle", None, items(10, (512, 512)))
    assert small < zerogpu.estimate_duration("restyle", None, items(20, (512, 512)))
    assert small < zerogpu.estimate_duration("restyle", None, items(10, (1024, 1024)))
    assert small < zerogpu.estimate_duration("restyle", None, items(10, (512, 512), batch=3))
    assert zerogpu.estimate_duration("restyle", None, items(50, (2048, 2048), batch=4)) == 120
    no_steps = [Prepared(None, 1, {"image": Image.new("RGB", (64, 64))}, {})]  # upscale, background removal
    assert 1 <= zerogpu.estimate_duration("upscale", None, no_steps) <= 120


def test_the_standin_has_the_real_decorators_signature(monkeypatch):
    """Against the real `spaces` (requirements-dev.txt): on CI its absence fails, locally it skips."""
    require(importlib.util.find_spec("spaces") is not None, "the `spaces` package (requirements-dev.txt)")
    monkeypatch.delitem(sys.modules, "spaces", raising=False)  # the real one, even where the stand-in was put
    spaces = importlib.import_module("spaces")
    assert spaces is not zerogpu_standin

    def shape(fn) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert shape(zerogpu_standin.GPU) == shape(spaces.GPU)


def slow_batch(operation_id: str, spec: object, items: list[Prepared]) -> zerogpu.DeviceOutcome:
    """Stands in for run_batch in the worker: a batch that takes a while."""
    import time

    time.sleep(0.5)
    return zerogpu.DeviceOutcome(outputs=[f"out-{item.seed}" for item in items])


def test_cancel_on_zero_gpu_takes_effect_between_batches():
    """No callback reaches the worker: a batch on the GPU runs to its end, and a job cancelled meanwhile
    gets RunCancelled (its output is dropped) when the batch returns."""
    import threading

    from kernel.errors import RunCancelled
    from pipelines.batcher import DeviceQueue, Job

    class Op:
        id = "upscale"

    work = zerogpu.ZeroGpuWork(zerogpu_standin.GPU(slow_batch, duration=5))
    model = type("Model", (), {"spec": None})()
    job = Job("k", Prepared(None, 3, {}, {}), work(Op(), model))
    threading.Timer(0.1, job.cancel.set).start()
    with pytest.raises(RunCancelled):
        DeviceQueue(4).submit(job)
    assert DeviceQueue(4).submit(Job("k", Prepared(None, 4, {}, {}), work(Op(), model))) == "out-4"
