"""The device queue: batches of compatible jobs, progress, cancel, errors."""

from __future__ import annotations

import threading
import time

import pytest

from kernel.errors import RunCancelled
from pipelines.batcher import DeviceQueue, Job


class SlowModel:
    """Stands in for a pipeline: `steps` steps of `step_s`, one output per item."""

    def __init__(self, steps: int = 5, step_s: float = 0.05) -> None:
        self.steps, self.step_s = steps, step_s
        self.calls: list[list] = []
        self.steps_run = 0

    def __call__(self, items: list, on_step) -> list:
        self.calls.append(list(items))
        for step in range(1, self.steps + 1):
            time.sleep(self.step_s)
            self.steps_run += 1
            on_step(step, self.steps)
        return [f"out-{item}" for item in items]


def submit_many(queue: DeviceQueue, jobs: list[Job]) -> list:
    results: list = [None] * len(jobs)

    def go(i: int) -> None:
        try:
            results[i] = queue.submit(jobs[i])
        except Exception as exc:  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    return results


def test_a_lone_job_runs_at_once_in_the_callers_thread():
    model = SlowModel(steps=2)
    seen = []
    result = DeviceQueue(4).submit(Job("k", 1, model, on_progress=lambda d, t: seen.append((d, t))))
    assert result == "out-1" and model.calls == [[1]]
    assert seen[-1] == (2, 2)


class WaitsForCompany(SlowModel):
    """The first pass waits until every job has arrived, so a busy machine cannot start threads too late."""

    def __init__(self, queue: DeviceQueue, expected: int) -> None:
        super().__init__(steps=4)
        self.queue, self.expected = queue, expected

    def __call__(self, items: list, on_step) -> list:
        deadline = time.monotonic() + 10
        while not self.calls and self.queue.depth() < self.expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().__call__(items, on_step)


def test_jobs_arriving_while_busy_share_one_pass():
    queue = DeviceQueue(4)
    model = WaitsForCompany(queue, expected=5)
    jobs = [Job("same", i, model) for i in range(5)]
    results = submit_many(queue, jobs)
    assert results == [f"out-{i}" for i in range(5)]
    assert queue.batches_run[0] == 1  # the first ran alone, at once
    assert max(queue.batches_run) == 4  # the others waited and went together
    assert sum(queue.batches_run) == 5


def test_different_keys_never_share_a_pass():
    model = SlowModel(steps=2)
    queue = DeviceQueue(4)
    results = submit_many(queue, [Job(f"key-{i % 2}", i, model) for i in range(4)])
    assert results == [f"out-{i}" for i in range(4)]
    for call in model.calls:
        assert len({item % 2 for item in call}) == 1


def test_batch_size_one_means_no_batching():
    model = SlowModel(steps=2)
    queue = DeviceQueue(1)
    submit_many(queue, [Job("k", i, model) for i in range(3)])
    assert list(queue.batches_run) == [1, 1, 1]


def test_cancel_stops_a_lone_run_within_one_step():
    model = SlowModel(steps=50, step_s=0.02)
    job = Job("k", 1, model)
    job.on_progress = lambda done, total: job.cancel.set() if done == 2 else None
    with pytest.raises(RunCancelled):
        DeviceQueue(4).submit(job)
    assert model.steps_run == 2  # the callback raised at the step where cancel was seen


def test_a_waiting_job_can_be_cancelled_before_it_starts():
    model = SlowModel(steps=10)
    queue = DeviceQueue(1)
    first, second = Job("a", 1, model), Job("b", 2, model)
    threading.Timer(0.15, second.cancel.set).start()
    results = submit_many(queue, [first, second])
    assert results[0] == "out-1" and isinstance(results[1], RunCancelled)
    assert model.calls == [[1]]


def test_errors_reach_every_caller_of_the_batch_and_the_queue_recovers():
    def broken(items, on_step):
        time.sleep(0.1)
        raise RuntimeError("boom")

    queue = DeviceQueue(4)
    results = submit_many(queue, [Job("k", i, broken) for i in range(3)])
    assert all(isinstance(r, RuntimeError) for r in results)
    assert queue.submit(Job("k", 9, SlowModel(steps=1))) == "out-9"
