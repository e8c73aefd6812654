"""A paid run: price it, hold the credits, screen the prompt, run, then charge or give back.

Whatever goes wrong after the hold (a bad input the model finds, an exception, a timeout, a
cancel, a refused prompt, even a crash of the handler) releases the hold; only a finished result
is charged. A process that dies mid-run leaves a hold with an expiry, which the sweeper releases.

The database going away (a restart) mid-run ends the run with a sentence, never a raw driver error,
and never a charge for a result that was not delivered (see `_charge`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa

from billing.ledger import Ledger
from billing.moderation import Moderation
from billing.prices import price
from kernel.errors import RunFailed
from pipelines.base import EditRequest
from pipelines.registry import get_operation
from pipelines.service import EditResult, EditService, ProgressFn

log = logging.getLogger(__name__)

DATABASE_AWAY = "The database did not answer for a moment (run {run}), so the run was stopped. Please try again."


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
        return price(self.settings, request)

    def run(self, request: EditRequest, user_id: int, *, on_progress: ProgressFn | None = None,
            cancel: threading.Event | None = None) -> EditResult:
        run_id = uuid.uuid4().hex
        try:
            return self._run(request, user_id, run_id, on_progress, cancel)
        except sa.exc.DBAPIError as exc:  # the policy check or the hold: nothing was held or charged
            log.error("run %s: the database failed: %s", run_id, type(exc.orig).__name__)
            raise RunFailed(DATABASE_AWAY.format(run=run_id[:8])) from None

    def _run(self, request: EditRequest, user_id: int, run_id: str, on_progress: ProgressFn | None,
             cancel: threading.Event | None) -> EditResult:
        if self.gate is not None:
            self.gate(user_id)
        cost = self.price(request)
        held = threading.Event()

        def admit() -> None:  # the request passed its checks: no credit moves for one that cannot run
            try:
                self.ledger.hold(user_id, run_id, cost)
            except sa.exc.DBAPIError as exc:
                log.error("run %s: the hold failed: %s", run_id, type(exc.orig).__name__)
                raise RunFailed(DATABASE_AWAY.format(run=run_id[:8])) from None
            held.set()
            if get_operation(request.operation).prompt_label:  # prompt-driven operations are screened
                self.moderation.check(request.prompt, user_id)

        try:
            result = self.service.run(request, on_progress=on_progress, cancel=cancel, user_id=user_id,
                                      run_id=run_id, admit=admit)
        except BaseException:
            if held.is_set():
                self._give_back(run_id)
            raise
        if not self._charge(run_id):
            raise RunFailed(DATABASE_AWAY.format(run=run_id[:8]))
        if self.on_charged is not None:
            self.on_charged(request.operation, cost)
        return replace(result, credits=cost)

    def _charge(self, run_id: str) -> bool:
        """Capture the hold; False when the database stayed away, and then the hold is given back.

        The capture retries once itself (billing/ledger.py). If it still fails, releasing tells the
        two cases apart: released means nothing was charged (the result is dropped); "not held any
        more" means the capture did commit and only its answer was lost, so the result is delivered.
        """
        try:
            self.ledger.capture(run_id)
            return True
        except sa.exc.DBAPIError as exc:
            log.error("run %s: the charge failed: %s", run_id, type(exc.orig).__name__)
        return self._give_back(run_id) is False

    def _give_back(self, run_id: str) -> bool | None:
        """Release a hold; None when the database is away (the hold expires and the sweeper releases it)."""
        try:
            return self.ledger.release(run_id)
        except sa.exc.DBAPIError as exc:
            log.error("run %s: the release failed (%s); the sweeper will release it", run_id, type(exc.orig).__name__)
            return None
