"""A stand-in for the `spaces` package that keeps ZeroGPU's rules, for CI (no ZeroGPU hardware there).

`GPU` has the real decorator's signature (tests/pipelines/test_zerogpu.py compares them when the
real package is importable) and does what the real one does to the function it wraps: evaluates
`duration` (a number, or a callable given the same arguments), pickles the arguments, runs the
function in a forked process ("fork" context), pickles the return value back, and re-raises an
exception raised there (pickled too). Whatever cannot be pickled fails here as it fails there.

Ahead-of-time compilation: `aoti_capture` and `aoti_apply` are the real package's own functions
(spaces/zero/torch/aoti.py, loaded without its package's start-up, which needs a CUDA build of torch);
`aoti_compile` is a stand-in, since the real one builds CUDA kernels with inductor: it keeps the
exported program and runs it as exported, and crosses the process boundary as torch.export saves it.
Every call of the three, in whichever process, is noted in CALL_LOG when a test sets it.
"""

from __future__ import annotations

import faulthandler
import importlib
import io
import multiprocessing
import os
import pickle
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial, wraps
from pathlib import Path
from typing import Any

WORKER_TIMEOUT_S = 120  # a worker stuck this long prints its stack and exits: the caller gets an error
DURATIONS: list[float] = []  # seconds asked for, per call, in order (tests read it)
REQUEST_HEADERS: list[dict[str, str] | None] = []  # the Gradio request each call saw, as the real one reads it
CALL_LOG: Path | None = None  # one line per aoti_* call, appended from any process
# Runs first in each worker. On a CUDA machine (tests/gpu/) it moves the models onto the GPU there, as the
# real package's patched torch does: on ZeroGPU the main process never touches CUDA, and a fork cannot.
WORKER_START: Callable[[], None] | None = None


def GPU(task: Callable | None = None, *, duration: Any = None, size: Any = None, **kwargs: Any) -> Any:
    if not callable(task):
        return partial(GPU, duration=duration, size=size)

    @wraps(task)
    def handler(*args: Any, **kwargs: Any) -> Any:
        seconds = duration(*args, **kwargs) if callable(duration) else duration
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        DURATIONS.append(seconds)
        REQUEST_HEADERS.append(_request_headers())
        payload = pickle.dumps((args, kwargs))  # raises here, in the caller, as spaces' arg_queue.put does
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(target=_worker, args=(task, payload, send), daemon=True)
        worker.start()
        send.close()
        try:
            ok, value = pickle.loads(receive.recv_bytes())  # noqa: S301 - our own child
        except EOFError:
            raise RuntimeError("ZeroGPU stand-in: the worker died without an answer") from None
        finally:
            receive.close()
            worker.join()
        if not ok:
            raise value
        return value

    return handler


def _request_headers() -> dict[str, str] | None:
    """The headers of the Gradio request in this context: ZeroGPU reads its quota token (x-ip-token) there."""
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    headers = getattr(request, "headers", None)
    return {k.lower(): v for k, v in dict(headers).items()} if headers is not None else None


def _worker(task: Callable, payload: bytes, send: Any) -> None:
    try:
        faulthandler.dump_traceback_later(WORKER_TIMEOUT_S, exit=True, file=sys.__stderr__)  # a hang shows where
        args, kwargs = pickle.loads(payload)  # noqa: S301 - from our own parent
        if WORKER_START is not None:
            WORKER_START()
        answer = (True, task(*args, **kwargs))
        data = pickle.dumps(answer)
    except BaseException as exc:  # noqa: BLE001 - sent back to the caller, pickled
        traceback.print_exc()
        try:
            data = pickle.dumps((False, exc))
        except Exception as unpicklable:  # noqa: BLE001
            data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__} (unpicklable: {unpicklable})")))
    send.send_bytes(data)
    send.close()
    os._exit(0)  # as a forked worker should: no atexit handlers, no flushing of the parent's buffers


def real_aoti() -> types.ModuleType:
    """The real spaces.zero.torch.aoti, imported with a bare parent package: the real parent's __init__
    patches torch for ZeroGPU and stops on a torch built without CUDA."""
    name = "spaces.zero.torch.aoti"
    if name in sys.modules:
        return sys.modules[name]
    standing_in = sys.modules.pop("spaces", None)  # this module, where a test put it in the real one's place
    try:
        zero = importlib.import_module("spaces.zero")  # the real package (requirements-dev.txt)
        parent = types.ModuleType("spaces.zero.torch")
        parent.__path__ = [str(Path(zero.__file__).parent / "torch")]
        saved = sys.modules.get(parent.__name__)
        sys.modules[parent.__name__] = parent
        try:
            return importlib.import_module(name)
        finally:
            if saved is not None:
                sys.modules[parent.__name__] = saved
    finally:
        if standing_in is not None:
            sys.modules["spaces"] = standing_in


def _note(what: str) -> None:
    if CALL_LOG is not None:
        with CALL_LOG.open("a") as log:
            log.write(f"{os.getpid()} {what}\n")


@contextmanager
def aoti_capture(module: Any, call_method: str = "forward") -> Iterator[Any]:
    _note(f"aoti_capture {type(module).__name__}")
    with real_aoti().aoti_capture(module, call_method) as call:
        yield call


def aoti_compile(exported_program: Any, inductor_configs: dict[str, Any] | None = None) -> CompiledStandIn:
    _note(f"aoti_compile {type(exported_program).__name__}")
    return CompiledStandIn(exported_program)


def aoti_apply(compiled: Any, module: Any, call_method: str = "forward") -> None:
    _note(f"aoti_apply {type(compiled).__name__} {type(module).__name__}")
    real_aoti().aoti_apply(compiled, module, call_method)


class CompiledStandIn:
    """What aoti_compile returns here: the exported program, run as exported (with its own weights)."""

    def __init__(self, exported_program: Any) -> None:
        self.exported = exported_program
        self._module = exported_program.module()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._module(*args, **kwargs)

    def __reduce__(self) -> tuple:
        import torch

        buffer = io.BytesIO()
        torch.export.save(self.exported, buffer)
        return _load_compiled, (buffer.getvalue(),)


def _load_compiled(data: bytes) -> CompiledStandIn:
    import torch

    return CompiledStandIn(torch.export.load(io.BytesIO(data)))
