"""A paid run, in one straight line: check the request, hold the credits, run, then charge or give back.

Whatever goes wrong after the hold (a refused prompt, an exception, a timeout, a cancel, even a
crash of the handler) releases the hold; only a finished result is charged. A process that dies
mid-run leaves a hold with an expiry, which the sweeper releases.

The database going away (a restart) mid-run ends the run with a sentence, never a raw driver error,
and never a charge for a result that was not delivered (see `_charge`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from billing.ledger import Ledger
from billing.moderation import Moderation
from billing.prices import price
from kernel.errors import RunCancelled, RunFailed, UserError
from pipelines.base import EditRequest
from pipelines.inputs import PROMPT, InputContext
from pipelines.registry import get_operation
from pipelines.replay import replay
from pipelines.service import EditResult, EditService, Plan, ProgressFn

log = logging.getLogger(__name__)

DATABASE_AWAY = "The database did not answer for a moment (run {run}), so the run was stopped. Please try again."


@dataclass(frozen=True)
class PaidResult(EditResult):
    """An edit's result and what it was charged."""

    credits: int = 0


@dataclass(frozen=True)
class Cell:
    """One result of a compare: what was asked, and its result (with what it cost) or why there is none."""

    request: EditRequest
    result: PaidResult | None
    error: Exception | None
    credits: int


@dataclass(frozen=True)
class Compared:
    """A compare's cells in grid order, what was held for them once and what was charged (the finished ones)."""

    compare_id: str
    cells: list[Cell]
    held: int
    credits: int


T = TypeVar("T")


class PaidRuns:
    def __init__(self, service: EditService, ledger: Ledger, moderation: Moderation,
                 gate: Callable[[int], None] | None = None) -> None:
        self.service = service
        self.settings = service.settings
        self.ledger = ledger
        self.moderation = moderation
        self.gate = gate  # raises a UserError when this user may not run yet (policy not accepted)
        self.on_charged: Callable[[str, int], None] | None = None  # (operation, credits) once charged: metrics

    def price(self, request: EditRequest) -> int:
        """What running `request` would cost (the Run button shows it before it is pressed)."""
        return price(self.settings, get_operation(request.operation), request)

    def run(self, request: EditRequest, user_id: int, *, on_progress: ProgressFn | None = None,
            cancel: threading.Event | None = None) -> PaidResult:
        run_id = uuid.uuid4().hex
        with self._database_sentence(run_id):
            self._check_gate(user_id)
            with self.service.recorded(request, user_id, run_id) as attempt:
                plan = attempt.plan = self.service.plan(request)  # the request can run; operation and model resolved
                cost = price(self.settings, plan.op, request)

                def work() -> tuple[EditResult, int]:
                    return self.service.execute(plan, run_id=run_id, on_progress=on_progress, cancel=cancel), cost

                result = self._held(user_id, run_id, cost, plan, work)
        if self.on_charged is not None:
            self.on_charged(plan.op.id, cost)
        return PaidResult(**vars(result), credits=cost)

    def compare(self, requests: list[EditRequest], user_id: int, *, on_progress: ProgressFn | None = None,
                cancel: threading.Event | None = None) -> Compared:
        """Run a compare's cells (pipelines/compare.py) for one hold of their total price.

        Every cell is planned before anything is held (one refused cell refuses the compare, nothing charged);
        the hold is the sum of the cells' prices, so too few credits refuse it all with the number needed.
        The cells run through the same service as single runs, one model's cells at a time and those
        together (so identical-shape cells batch); Cancel stops every cell. The charge is what the finished
        cells cost, the rest is released in the same transaction; when no cell finished nothing is charged.
        """
        compare_id = uuid.uuid4().hex
        cancel = cancel or threading.Event()
        with self._database_sentence(compare_id):
            self._check_gate(user_id)
            plans = [self.service.plan(request) for request in requests]
            prices = [price(self.settings, plan.op, plan.request) for plan in plans]

            def work() -> tuple[list[Cell], int]:
                cells = self._run_cells(plans, prices, user_id, on_progress, cancel)
                delivered = [cell for cell in cells if cell.result is not None]
                if not delivered:  # nothing to show: the first cell's reason, and the hold goes back
                    raise next((c.error for c in cells if isinstance(c.error, RunCancelled)), cells[0].error)
                return cells, sum(cell.credits for cell in delivered)

            cells = self._held(user_id, compare_id, sum(prices), plans[0], work)
        charged = sum(cell.credits for cell in cells)
        if self.on_charged is not None:
            for cell in cells:
                if cell.result is not None:
                    self.on_charged(plans[0].op.id, cell.credits)
        return Compared(compare_id, cells, held=sum(prices), credits=charged)

    def _run_cells(self, plans: list[Plan], prices: list[int], user_id: int, on_progress: ProgressFn | None,
                   cancel: threading.Event) -> list[Cell]:
        """Each cell as its own recorded run; one model's cells at once (up to MAX_BATCH_SIZE), models in turn."""
        report = on_progress or (lambda done, total, what: None)
        cells: list[Cell | None] = [None] * len(plans)
        finished = 0
        lock = threading.Lock()

        def one(index: int) -> None:
            nonlocal finished
            plan, run_id = plans[index], uuid.uuid4().hex
            try:
                if cancel.is_set():
                    raise RunCancelled()
                with self.service.recorded(plan.request, user_id, run_id) as attempt:
                    attempt.plan = plan
                    result = self.service.execute(plan, run_id=run_id, cancel=cancel)
                cells[index] = Cell(plan.request, PaidResult(**vars(result), credits=prices[index]), None,
                                    prices[index])
            except (RunCancelled, RunFailed, UserError) as exc:
                cells[index] = Cell(plan.request, None, exc, 0)
            with lock:
                finished += 1
                report(finished, len(plans), "Comparing")

        by_model: dict[str, list[int]] = {}
        for index, plan in enumerate(plans):
            by_model.setdefault(plan.model_id, []).append(index)
        report(0, len(plans), "Comparing")
        with ThreadPoolExecutor(max_workers=max(1, self.settings.max_batch_size), thread_name_prefix="cell") as pool:
            for indexes in by_model.values():
                list(pool.map(one, indexes))
        return [cell for cell in cells if cell is not None]

    def replay(self, recipe: Any, pictures: dict[str, Any] | list[Any], ctx: InputContext, user_id: int, *,
               operation: str | None = None, **run: Any) -> PaidResult:
        """Run a recipe again (pipelines/replay.py), priced and charged like its operation; a recipe that is
        refused (not JSON, another operation, a model not offered, values out of range) charges nothing."""
        return replay(lambda request: self.run(request, user_id, **run), recipe, pictures, ctx, operation=operation)

    def _check_gate(self, user_id: int) -> None:
        if self.gate is not None:
            self.gate(user_id)

    def _held(self, user_id: int, hold_id: str, cost: int, plan: Plan, work: Callable[[], tuple[T, int]]) -> T:
        """The paid straight line: hold `cost`, screen the prompt, work, charge what the work says it delivered
        (all of it for a single run); whatever goes wrong before the charge gives the hold back."""
        if cost == 0:  # a free run (a selection): no hold and no ledger rows; its usage row is still written
            return work()[0]
        self.ledger.hold(user_id, hold_id, cost)
        try:
            if plan.op.takes(PROMPT.name):  # prompt-driven operations are screened
                self.moderation.check(plan.request.prompt, user_id)
            outcome, charge = work()
        except BaseException:
            self._give_back(hold_id)
            raise
        self._charge(hold_id, None if charge == cost else charge)
        return outcome

    @contextmanager
    def _database_sentence(self, run_id: str) -> Iterator[None]:
        """The policy check, the hold or the charge failing on the database: a sentence, nothing held or charged."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            log.error("run %s: the database failed: %s", run_id, type(exc.orig).__name__)
            raise RunFailed(DATABASE_AWAY.format(run=run_id[:8])) from None

    def _charge(self, run_id: str, part: int | None = None) -> None:
        """Capture the hold (`part`: only that much, the rest released). If the database stays away, releasing
        tells the two cases apart: released means
        nothing was charged (the result is dropped, RunFailed); "not held any more" means the capture did
        commit and only its answer was lost, so the result is delivered."""
        try:
            self.ledger.capture(run_id) if part is None else self.ledger.settle(run_id, part)
        except sa.exc.DBAPIError as exc:
            log.error("run %s: the charge failed: %s", run_id, type(exc.orig).__name__)
            if self._give_back(run_id) is not False:
                raise RunFailed(DATABASE_AWAY.format(run=run_id[:8])) from None

    def _give_back(self, run_id: str) -> bool | None:
        """Release a hold; None when the database is away (the hold expires and the sweeper releases it)."""
        try:
            return self.ledger.release(run_id)
        except sa.exc.DBAPIError as exc:
            log.error("run %s: the release failed (%s); the sweeper will release it", run_id, type(exc.orig).__name__)
            return None
