"""One queue per device: runs model work one batch at a time, batching requests that can share a pass.

Why here and not in Gradio (`batch=True`)? Gradio hands a batched function the FIRST request
only, so every item would look like the first user; and a batch there cannot report progress or
stop per item. Here each request arrives already validated and owned by its caller.

Leader/follower: the caller that finds the device idle runs the next batch itself, in its own
thread, so the work stays inside a request (ZeroGPU's `spaces.GPU` needs that: the job's `work`
is where it goes, see pipelines/zerogpu.py; the queue itself never crosses a process). Callers that arrive
while the device is busy wait; when it frees, the next leader takes every waiting job with the
same key (same operation, model, size and settings), up to `max_batch_size`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from kernel.errors import RunCancelled

StepFn = Callable[[int, int], None]
BatchWork = Callable[[list[Any], StepFn], list[Any]]
POLL_S = 0.1  # how often a waiting caller reports progress and checks for cancel


@dataclass(eq=False)
class Job:
    key: Hashable
    item: Any
    work: BatchWork  # runs a whole batch of items with this key; returns one output per item
    cancel: threading.Event = field(default_factory=threading.Event)
    on_progress: StepFn | None = None
    progress: tuple[int, int] = (0, 0)
    _reported: tuple[int, int] = (0, 0)
    done: bool = False
    output: Any = None
    error: BaseException | None = None

    def report_progress(self) -> None:
        """Call the progress callback from the job's own thread, only when it changed."""
        if self.on_progress and self.progress != self._reported:
            self._reported = self.progress
            self.on_progress(*self.progress)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.output


class DeviceQueue:
    def __init__(self, max_batch_size: int = 1) -> None:
        self.max_batch_size = max(1, max_batch_size)
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self._busy = False
        self._running = 0  # jobs in the batch on the device now
        self.batches_run: deque[int] = deque(maxlen=1000)  # sizes of recent batches (tests, bench)

    def submit(self, job: Job) -> Any:
        """Run `job` (possibly together with others) and return its output, or raise its error."""
        with self._cond:
            self._waiting.append(job)
        while True:
            batch = self._wait_for_turn(job)
            if batch is None:
                return job.outcome()
            try:
                self._execute(batch, job)
            finally:
                with self._cond:
                    self._busy = False
                    self._running = 0
                    self._cond.notify_all()

    def depth(self) -> int:
        """Requests waiting for the device plus those running on it now (the metrics' queue depth)."""
        with self._cond:
            return len(self._waiting) + self._running

    def _wait_for_turn(self, job: Job) -> list[Job] | None:
        """Block until `job` is finished (None) or this caller should lead the next batch."""
        with self._cond:
            while not job.done:
                if job.cancel.is_set():  # waiting, or inside another caller's batch: stop now
                    if job in self._waiting:
                        self._waiting.remove(job)
                    raise RunCancelled()
                if not self._busy and self._waiting:
                    self._busy = True
                    return self._take_batch()
                self._cond.wait(POLL_S)
                job.report_progress()
            return None

    def _take_batch(self) -> list[Job]:
        key = self._waiting[0].key
        batch = [j for j in self._waiting if j.key == key][: self.max_batch_size]
        for j in batch:
            self._waiting.remove(j)
        self._running = len(batch)
        return batch

    def _execute(self, batch: list[Job], leader: Job) -> None:
        alive = [j for j in batch if not j.cancel.is_set()]
        for j in batch:
            if j not in alive:
                self._finish(j, error=RunCancelled())
        if not alive:
            return

        def on_step(step: int, total: int) -> None:
            for j in alive:
                j.progress = (step, total)
            if leader in alive:
                leader.report_progress()
            if all(j.cancel.is_set() for j in alive):
                raise RunCancelled()

        self.batches_run.append(len(alive))
        try:
            outputs = alive[0].work([j.item for j in alive], on_step)
        except BaseException as exc:  # noqa: BLE001 - handed to every caller in the batch
            for j in alive:
                self._finish(j, error=RunCancelled() if j.cancel.is_set() else exc)
            return
        for j, output in zip(alive, outputs, strict=True):
            if j.cancel.is_set():
                self._finish(j, error=RunCancelled())
            else:
                self._finish(j, output=output)

    def _finish(self, job: Job, *, output: Any = None, error: BaseException | None = None) -> None:
        with self._cond:
            job.output, job.error, job.done = output, error, True
            self._cond.notify_all()
