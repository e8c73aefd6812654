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
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from billing.ledger import Ledger
from billing.moderation import Moderation
from billing.prices import price
from kernel.errors import RunFailed
from pipelines.base import EditRequest
from pipelines.inputs import PROMPT
from pipelines.registry import get_operation
from pipelines.service import EditResult, EditService, Plan, ProgressFn

log = logging.getLogger(__name__)

DATABASE_AWAY = "The database did not answer for a moment (run {run}), so the run was stopped. Please try again."


@dataclass(frozen=True)
class PaidResult(EditResult):
    """An edit's result and what it was charged."""

    credits: int = 0


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
        try:
            if self.gate is not None:
                self.gate(user_id)
            with self.service.recorded(request, user_id, run_id) as attempt:
                plan = attempt.plan = self.service.plan(request)  # the request can run; operation and model resolved
                cost = price(self.settings, plan.op, request)
                if cost == 0:  # a free run (a selection): no hold, no ledger rows, still a usage row
                    result = self.service.execute(plan, run_id=run_id, on_progress=on_progress, cancel=cancel)
                else:
                    result = self._paid(plan, request, user_id, run_id, cost, on_progress, cancel)
        except sa.exc.DBAPIError as exc:  # the policy check, the hold or the charge: nothing stays held or charged
            log.error("run %s: the database failed: %s", run_id, type(exc.orig).__name__)
            raise RunFailed(DATABASE_AWAY.format(run=run_id[:8])) from None
        if self.on_charged is not None:
            self.on_charged(plan.op.id, cost)
        return PaidResult(**vars(result), credits=cost)

    def _paid(self, plan: Plan, request: EditRequest, user_id: int, run_id: str, cost: int,
              on_progress: ProgressFn | None, cancel: threading.Event | None) -> EditResult:
        """Hold, run, then charge; whatever goes wrong in between gives the hold back."""
        self.ledger.hold(user_id, run_id, cost)
        try:
            if plan.op.takes(PROMPT.name):  # prompt-driven operations are screened
                self.moderation.check(request.prompt, user_id)
            result = self.service.execute(plan, run_id=run_id, on_progress=on_progress, cancel=cancel)
        except BaseException:
            self._give_back(run_id)
            raise
        self._charge(run_id)
        return result

    def _charge(self, run_id: str) -> None:
        """Capture the hold. If the database stays away, releasing tells the two cases apart: released means
        nothing was charged (the result is dropped, RunFailed); "not held any more" means the capture did
        commit and only its answer was lost, so the result is delivered."""
        try:
            self.ledger.capture(run_id)
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
