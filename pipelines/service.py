"""Running an edit: check it (plan), do the model work (execute), record the outcome (recorded).

billing/paid_runs.py strings these together with the credits in between; `run` strings them
together for free (tests, benchmarks). Every run gets a run id, a seed, a usage row and the same
error messages.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PIL import Image

from config import Settings
from kernel.errors import RunCancelled, RunFailed, UserError
from pipelines import warmup
from pipelines.acceleration import uncompile
from pipelines.base import EditRequest, Limits, Operation, Prepared
from pipelines.batcher import BatchWork, DeviceQueue, Job
from pipelines.clip_score import ClipDirection
from pipelines.inputs import PROMPT, InputContext
from pipelines.measures import timed, unchanged
from pipelines.models import LoadedModel, ModelManager, ModelSpec
from pipelines.recipes import make_recipe
from pipelines.registry import OPERATIONS, get_operation
from pipelines.replay import replay
from store.usage import RunRecord, UsageLog

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]  # (done, total, what is happening)
DeviceWork = Callable[[Operation, LoadedModel], BatchWork]  # a job's batch work for an operation and its model


def in_process(op: Operation, model: LoadedModel) -> BatchWork:
    """The model work called right here: progress and Cancel at every step, nothing pickled."""
    return partial(op.forward, model)


@dataclass(frozen=True)
class EditResult:
    image: Image.Image
    seed: int | None
    run_id: str
    duration_ms: int
    model_id: str
    weights: str
    recipe: dict[str, Any] = field(default_factory=dict)  # pipelines/recipes.py: holds the prompt, never stored
    placement: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # where the input sits in it (op.placement)

    @property
    def measurements(self) -> dict[str, Any]:
        """Time, speed, memory, what changed outside the edit, CLIP direction (EditService.measure): in the recipe."""
        return self.recipe.get("measurements", {})
    notice: str | None = None  # a sentence to show with the result (Operation.notice)


@dataclass(frozen=True)
class Plan:
    """A request that passed its checks, with its operation and model resolved once."""

    request: EditRequest
    op: Operation
    model_id: str
    spec: ModelSpec


@dataclass
class Attempt:
    """One run being recorded: what it was, once known (see EditService.recorded)."""

    run_id: str
    user_id: int | None
    request: EditRequest
    plan: Plan | None = None
    started: float = field(default_factory=time.perf_counter)


class EditService:
    def __init__(self, settings: Settings, models: ModelManager, queue: DeviceQueue, usage: UsageLog | None,
                 device_work: DeviceWork | None = None) -> None:
        self.settings = settings
        self.models = models
        self.queue = queue
        self.device_work = device_work or in_process  # pipelines/zerogpu.py's on ZeroGPU
        self.usage = usage
        self.observers: list[Callable[[RunRecord], None]] = []  # told of every finished run (metrics, logs)
        self._running: set[threading.Event] = set()  # the cancel switches of the runs in progress
        self._running_lock = threading.Lock()
        self.clip = ClipDirection(settings, models) if settings.clip_model else None  # CLIP_MODEL: one more measure

    def run(self, request: EditRequest, *, on_progress: ProgressFn | None = None,
            cancel: threading.Event | None = None, user_id: int | None = None) -> EditResult:
        """Check and run one edit, free of charge (billing/paid_runs.py runs them for a price)."""
        run_id = uuid.uuid4().hex
        with self.recorded(request, user_id, run_id) as attempt:
            attempt.plan = self.plan(request)
            return self.execute(attempt.plan, run_id=run_id, on_progress=on_progress, cancel=cancel)

    def replay(self, recipe: Any, pictures: dict[str, Any] | list[Any], ctx: InputContext, **run: Any) -> EditResult:
        """Run a recipe (pipelines/replay.py) on these pictures, free of charge; PaidRuns.replay charges."""
        return replay(lambda request: self.run(request, **run), recipe, pictures, ctx)

    def plan(self, request: EditRequest) -> Plan:
        """Refuse a request that cannot run (bad input, a model not offered) before anything is spent."""
        op = get_operation(request.operation)
        model_id = request.model or op.default_model(self.settings, request)
        if model_id not in op.model_choices(self.settings):
            raise UserError(f"{model_id!r} is not one of the models offered for {op.label.lower()}.")
        op.validate(request, self.settings)
        return Plan(request, op, model_id, self.models.spec(op, model_id))

    def execute(self, plan: Plan, *, run_id: str, on_progress: ProgressFn | None = None,
                cancel: threading.Event | None = None) -> EditResult:
        """The model work: load, prepare, queue on the device, finish. Raises RunCancelled or RunFailed.

        Every stage counts against RUN_TIMEOUT_S: the work runs in a thread of its own (with this
        thread's context, so Gradio's progress and ZeroGPU see the request), and when the time is
        up the caller gets its sentence at once while the work is told to stop at its next step.
        """
        cancel = cancel or threading.Event()
        finished = threading.Event()
        outcome: list[Any] = []
        context = contextvars.copy_context()

        def work() -> None:
            try:
                outcome.append(context.run(self._work, plan, run_id, on_progress, cancel))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                outcome.append(exc)
            finally:
                finished.set()

        with self._cancellable(cancel):
            threading.Thread(target=work, name=f"run-{run_id[:8]}", daemon=True).start()
            if not finished.wait(self.settings.run_timeout_s):
                cancel.set()  # the work stops at its next step; its result, if any, is dropped
                raise RunFailed(
                    f"The run took longer than {self.settings.run_timeout_s} s and was stopped. Nothing was changed."
                )
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def cancel_all(self) -> int:
        """Stop every run in progress (the server is shutting down); returns how many were told."""
        with self._running_lock:
            running = list(self._running)
        for cancel in running:
            cancel.set()
        return len(running)

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`) until no run is in progress; True when none is."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._running_lock:
                if not self._running:
                    return True
            time.sleep(0.05)
        return False

    @contextmanager
    def _cancellable(self, cancel: threading.Event) -> Iterator[None]:
        with self._running_lock:
            self._running.add(cancel)
        try:
            yield
        finally:
            with self._running_lock:
                self._running.discard(cancel)

    def _work(self, plan: Plan, run_id: str, on_progress: ProgressFn | None, cancel: threading.Event) -> EditResult:
        started = time.perf_counter()
        op, request, spec = plan.op, plan.request, plan.spec
        report = on_progress or (lambda done, total, what: None)
        try:
            if not self.models.is_loaded(spec):
                report(0, 1, "Loading the model (first run only)")
            with self.models.use(spec, partial(self.warm_up, op)) as model:
                _stop_if(cancel)
                seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
                prepared = op.prepare(request, model, seed, self.limits(spec.weights, bucketed=model.compiled))
                _stop_if(cancel)
                batch_key = op.batch_key(prepared) if op.batchable else run_id
                job = Job(
                    key=(op.id, spec.key, batch_key),
                    item=prepared,
                    work=timed(self.device_work(op, model), gpu=self._measures_gpu(model)),
                    cancel=cancel,
                    on_progress=lambda done, total: report(done, total, "Editing"),
                )
                output = self._submit(job, model, run_id)
                image = op.finish(prepared, output)
                seed = seed if op.uses_seed else None
                wall_ms = _ms_since(started)
                recipe = make_recipe(op, request, model, prepared, seed, image, run_id, plan.model_id)
                notice = op.notice(prepared, output)
            _stop_if(cancel)
            recipe["measurements"] = self.measure(op, request, model.spec, prepared, image, wall_ms)
            report(1, 1, "Done")
            return EditResult(
                image=image,
                seed=seed,
                run_id=run_id,
                duration_ms=wall_ms,
                model_id=plan.model_id,
                weights=spec.weights,
                recipe=recipe,
                placement=op.placement(request),
                notice=notice,
            )
        except (RunCancelled, RunFailed, UserError):
            raise
        except Exception as exc:
            raise _as_run_failed(exc, run_id, op.id) from exc

    @contextmanager
    def recorded(self, request: EditRequest, user_id: int | None, run_id: str) -> Iterator[Attempt]:
        """One usage row and one observer call for whatever happens inside: ok, rejected, cancelled or failed.

        Requests for an operation that does not exist are not counted: their names come from outside.
        """
        attempt = Attempt(run_id, user_id, request)
        status = "failed"
        try:
            yield attempt
            status = "ok"
        except UserError:
            status = "rejected"
            raise
        except RunCancelled:
            status = "cancelled"
            raise
        finally:
            if request.operation in OPERATIONS:
                self._record(attempt, status)

    def _submit(self, job: Job, model: LoadedModel, run_id: str) -> Any:
        """Queue the job; if the GPU runs out of memory, once more with the model offloaded to the CPU.

        Only where offload exists (a diffusers model on CUDA, not offloaded yet); otherwise, or when
        the retry runs out of memory too, the error stands and the user reads "ran out of memory".
        The run keeps its one hold throughout, so it is charged once or not at all.
        """
        try:
            return self.queue.submit(job)
        except Exception as exc:
            if not _out_of_memory(exc) or not self.models.can_offload(model):
                raise
            log.warning("run %s ran out of GPU memory; trying once more with model CPU offload", run_id)

        def offloaded(items: list, on_step: Callable[[int, int], None]) -> list:
            self.models.offload(model)  # inside the queue: no other batch is on the device now
            return job.work(items, on_step)

        retry = Job(key=(*job.key, "offload", run_id), item=job.item, work=offloaded, cancel=job.cancel,
                    on_progress=job.on_progress)
        return self.queue.submit(retry)

    def _measures_gpu(self, model: LoadedModel) -> bool:
        """Peak GPU memory is read where the work runs on CUDA in this process (not in ZeroGPU's worker)."""
        return model.device.startswith("cuda") and self.device_work is in_process

    def measure(self, op: Operation, request: EditRequest, spec: ModelSpec, prepared: Prepared, image: Image.Image,
                wall_ms: int) -> dict[str, Any]:
        """The result's measurements (pipelines/measures.py), none needing the network; a measurement that fails
        is null with its reason: it never costs the user the result."""
        device = dict(prepared.measured)
        rate = device.pop("steps_per_s", None)
        found: dict[str, Any] = {"wall_s": wall_ms / 1000, **device,
                                 "denoiser_steps_per_s": rate if spec.kind == "diffusers" else None}
        try:
            found["unchanged"] = unchanged(op, request, image)
        except Exception as exc:  # noqa: BLE001 - a measurement must never cost the user a result
            log.error("measuring run %s failed: %s", op.id, type(exc).__name__)
            found["unchanged"] = {"psnr_db": None, "ssim": None, "reason": "could not be measured"}
        found["clip_direction"], found["clip_reason"] = self._clip_direction(op, request, image)
        return found

    def _clip_direction(self, op: Operation, request: EditRequest,
                        image: Image.Image) -> tuple[float | None, str | None]:
        if self.clip is None:
            return None, "CLIP_MODEL is not set"
        if not op.takes(PROMPT.name) or not (request.prompt or "").strip():
            return None, "no instruction to compare with"
        if not op.compares_to_input:
            return None, op.text("not_compared")
        try:
            return round(self.clip.direction(request.image, image, request.prompt), 5), None
        except Exception as exc:  # noqa: BLE001 - a measurement must never cost the user a result
            log.error("the CLIP measurement failed: %s", type(exc).__name__)
            return None, "could not be measured"

    def limits(self, weights: str, *, bucketed: bool = False) -> Limits:
        working = self.settings.tiny_working_pixels if weights == "tiny" else self.settings.max_working_pixels
        return Limits(working_pixels=working, demo=weights == "tiny", bucketed=bucketed)

    def warm_up(self, op: Operation, model: LoadedModel) -> None:
        """A compiled model's warm-up, right after it loads: one edit per size bucket through the device
        queue (pipelines/warmup.py), or on ZeroGPU its ahead-of-time compilation (pipelines/zerogpu.py)."""
        if not warmup.needs_warm_up(model):
            return
        started = time.perf_counter()
        edits = warmup.prepared_edits(op, model, self.limits(model.weights, bucketed=True))
        compile_ahead = getattr(self.device_work, "compile_ahead", None)
        try:
            if compile_ahead is not None:
                compile_ahead(op, model, edits)
            else:
                for prepared in edits:
                    width, height = prepared.shared.get("width"), prepared.shared.get("height")
                    self.queue.submit(Job(key=(op.id, model.spec.key, "warm-up", width, height), item=prepared,
                                          work=in_process(op, model)))
        except Exception as exc:  # noqa: BLE001 - a speed-up must never cost a working model
            log.warning("compiling %s failed in its warm-up (%s: %s); it runs uncompiled", model.model_id,
                        type(exc).__name__, exc)
            uncompile(model.pipe)
            model.accelerations = tuple(name for name in model.accelerations if name != "compile")
            return
        model.warmed_up = tuple(warmup.buckets(model, self.limits(model.weights, bucketed=True)))
        log.info("%s warmed up for %d size buckets in %.1f s", model.model_id, len(edits),
                 time.perf_counter() - started)

    def default_spec(self, op: Operation) -> ModelSpec:
        return self.models.spec(op, op.default_model(self.settings))

    def status(self) -> dict[str, dict]:
        """Per operation: its default model, which weights it runs on, whether it is loaded."""
        return {op.id: self.models.describe(self.default_spec(op)) for op in OPERATIONS.values()}

    def preload(self, operation_id: str) -> threading.Thread:
        """Load an operation's default model in the background, so the first run starts at once."""
        op = get_operation(operation_id)

        def load() -> None:
            try:
                with self.models.use(self.default_spec(op), partial(self.warm_up, op)):
                    pass
            except Exception as exc:  # noqa: BLE001 - the UI reports it when the operation is used
                log.warning("preloading %s failed: %s", op.id, exc)

        thread = threading.Thread(target=load, name=f"preload-{op.id}", daemon=True)
        thread.start()
        return thread

    def _record(self, attempt: Attempt, status: str) -> None:
        plan, request = attempt.plan, attempt.request
        record = RunRecord(
            run_id=attempt.run_id,
            user_id=attempt.user_id,
            operation=request.operation,
            model_id=plan.model_id if plan else (request.model or ""),
            weights=plan.spec.weights if plan else "real",
            status=status,
            duration_ms=_ms_since(attempt.started),
            input_megapixels=request.image.width * request.image.height / 1e6 if request.image is not None else 0.0,
            output_size=plan.op.output_size(request) if plan and request.image is not None else None,
        )
        for observe in self.observers:
            try:
                observe(record)
            except Exception as exc:  # noqa: BLE001 - counting a run must never cost the user a result
                log.error("a run observer failed for run %s: %s", attempt.run_id, type(exc).__name__)
        if self.usage is None:
            return
        try:
            self.usage.record(record)
        except Exception as exc:  # noqa: BLE001 - a usage row must never cost the user a result
            log.error("could not record usage for run %s: %s", attempt.run_id, exc)


def _stop_if(cancel: threading.Event) -> None:
    """Between stages: a cancelled (or timed-out) run goes no further."""
    if cancel.is_set():
        raise RunCancelled()


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _out_of_memory(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, recognised by name: torch is imported only where models load."""
    return type(exc).__name__ == "OutOfMemoryError"


def _as_run_failed(exc: Exception, run_id: str, op_id: str) -> RunFailed:
    """Log the details (no prompt, no pixels), give the user a sentence and the run id."""
    log.error("run %s (%s) failed: %s: %s", run_id, op_id, type(exc).__name__, exc, exc_info=exc)
    if _out_of_memory(exc) or getattr(exc, "type_name", "") == "OutOfMemoryError":  # the latter: from ZeroGPU's worker
        return RunFailed(
            f"The GPU ran out of memory on this picture (run {run_id[:8]}). "
            "Try a smaller picture or fewer steps. Nothing was changed."
        )
    return RunFailed(f"The model could not finish this edit (run {run_id[:8]}). Nothing was changed; please try again.")
