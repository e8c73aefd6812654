"""Releasing the credit holds of runs that died with their process: at start-up, then every minute."""

from __future__ import annotations

import logging
import threading

from billing.ledger import Ledger

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, ledger: Ledger, every_s: float = 60.0) -> None:
        self.ledger = ledger
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="credit-hold-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                self.ledger.sweep()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment; try again later
                log.warning("sweeping credit holds failed: %s", type(exc).__name__)
            if self._stop.wait(self.every_s):
                return
