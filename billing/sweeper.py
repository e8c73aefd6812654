"""Background housekeeping: a small thread per job that runs it at start-up, then every so often.

The credit-hold sweeper releases the holds of runs that died with their process, every minute;
the usage retention task purges usage events past USAGE_RETENTION_DAYS, every hour.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from billing.ledger import Ledger
from store.usage import UsageLog

log = logging.getLogger(__name__)


class Periodic:
    """Run `job` now and then every `every_s` seconds on a daemon thread, until stopped.

    A failing run is logged by its exception's type only (messages may quote data) and tried
    again at the next tick: the database may be away for a moment.
    """

    def __init__(self, name: str, job: Callable[[], object], every_s: float) -> None:
        self.name = name
        self.job = job
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                self.job()
            except Exception as exc:  # noqa: BLE001 - try again at the next tick
                log.warning("%s failed: %s", self.name, type(exc).__name__)
            if self._stop.wait(self.every_s):
                return


class Sweeper(Periodic):
    """Releases credit holds left by runs that died with an earlier process: at start-up, then every minute."""

    def __init__(self, ledger: Ledger, every_s: float = 60.0) -> None:
        super().__init__("credit-hold-sweeper", ledger.sweep, every_s)
        self.ledger = ledger


def usage_retention(usage: UsageLog, retention_days: int, every_s: float = 3600.0) -> Periodic:
    """Purges usage events older than `retention_days`: at start-up, then every hour."""
    return Periodic("usage-retention", lambda: usage.purge_expired(retention_days), every_s)
