"""A paid run: price it, hold the credits, screen the prompt, run, then charge or give back.

Whatever goes wrong after the hold (a bad input the model finds, an exception, a timeout, a
cancel, a refused prompt, even a crash of the handler) releases the hold; only a finished result
is charged. A process that dies mid-run leaves a hold with an expiry, which the sweeper releases.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

from billing.ledger import Ledger
from billing.moderation import Moderation
from billing.prices import price
from pipelines.base import EditRequest
from pipelines.registry import get_operation
from pipelines.service import EditResult, EditService, ProgressFn


class PaidRuns:
    def __init__(self, service: EditService, ledger: Ledger, moderation: Moderation,
                 gate: Callable[[int], None] | None = None) -> None:
        self.service = service
        self.settings = service.settings
        self.ledger = ledger
        self.moderation = moderation
        self.gate = gate  # raises a UserError when this user may not run yet (policy not accepted)

    def price(self, request: EditRequest) -> int:
        return price(self.settings, request)

    def run(self, request: EditRequest, user_id: int, *, on_progress: ProgressFn | None = None,
            cancel: threading.Event | None = None) -> EditResult:
        if self.gate is not None:
            self.gate(user_id)
        cost = self.price(request)
        run_id = uuid.uuid4().hex
        held = threading.Event()

        def admit() -> None:  # the request passed its checks: no credit moves for one that cannot run
            self.ledger.hold(user_id, run_id, cost)
            held.set()
            if get_operation(request.operation).prompt_label:  # prompt-driven operations are screened
                self.moderation.check(request.prompt, user_id)

        try:
            result = self.service.run(request, on_progress=on_progress, cancel=cancel, user_id=user_id,
                                      run_id=run_id, admit=admit)
        except BaseException:
            if held.is_set():
                self.ledger.release(run_id)
            raise
        self.ledger.capture(run_id)
        return replace(result, credits=cost)
