"""A stand-in for the `spaces` package that keeps ZeroGPU's rules, for CI (no ZeroGPU hardware there).

`GPU` has the real decorator's signature (tests/pipelines/test_zerogpu.py compares them when the
real package is importable) and does what the real one does to the function it wraps: evaluates
`duration` (a number, or a callable given the same arguments), pickles the arguments, runs the
function in a forked process ("fork" context), pickles the return value back, and re-raises an
exception raised there (pickled too). Whatever cannot be pickled fails here as it fails there.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Callable
from datetime import timedelta
from functools import partial, wraps
from typing import Any

WORKER_TIMEOUT_S = 120  # a worker stuck this long prints its stack and exits: the caller gets an error
DURATIONS: list[float] = []  # seconds asked for, per call, in order (tests read it)
REQUEST_HEADERS: list[dict[str, str] | None] = []  # the Gradio request each call saw, as the real one reads it


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
