"""Uploads from callers who are not signed in, counted per client address: files and bytes per window.

Gradio's upload route takes files from anyone, and each stays in the RAM upload folder until a
handler reads it or the sweep deletes it. Without a count per address one anonymous client could
keep that folder full. A window starts with an address's first upload and lasts `window_s`.
Bytes are counted as they arrive, so uploads in flight at the same time see each other, and then
settled at what was actually written: written bytes count whether or not the upload was kept,
files only when kept. Nothing here knows who is signed in; the upload route asks only for guests.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kernel.errors import TryLater

FRAMING_BYTES = 64 * 1000  # a multipart body's boundaries and part headers: received, never written


class OverQuota(TryLater):
    """The address has used its window: `retry_after_s` until the window ends."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"over the upload quota for {retry_after_s} s", retry_after_s)


@dataclass
class _Window:
    started: float
    files: int = 0
    size: int = 0


class AddressQuota:
    """At most `files` files and `size` bytes per client address per `window_s` seconds."""

    def __init__(self, *, files: int, size: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.files, self.size, self.window_s, self.clock = files, size, window_s, clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def open(self, address: str) -> QuotaCharge:
        """A charge for one upload request; OverQuota, before anything is read, when the window is used up."""
        with self._lock:
            window = self._window(address)
            if window.files >= self.files or window.size >= self.size:
                raise OverQuota(self._retry_after(window))
            return QuotaCharge(self, window)

    def _window(self, address: str) -> _Window:
        now = self.clock()
        if now >= self._next_prune:  # forget addresses whose window ended, at most once a second
            self._windows = {a: w for a, w in self._windows.items() if now < w.started + self.window_s}
            self._next_prune = now + 1.0
        window = self._windows.get(address)
        if window is None or now >= window.started + self.window_s:
            window = self._windows[address] = _Window(started=now)
        return window

    def _retry_after(self, window: _Window) -> int:
        return max(1, math.ceil(window.started + self.window_s - self.clock()))


class QuotaCharge:
    """One request's share of its address's window; `settle` may be called again and replaces the last."""

    def __init__(self, quota: AddressQuota, window: _Window) -> None:
        self.quota, self.window = quota, window
        self.files = self.size = 0

    def received(self, count: int) -> None:
        """Body bytes as they arrive; OverQuota once the window's bytes pass the quota (framing allowed for)."""
        with self.quota._lock:
            self.size += count
            self.window.size += count
            if self.window.size > self.quota.size + FRAMING_BYTES:
                raise OverQuota(self.quota._retry_after(self.window))

    def settle(self, files: int, written: int) -> None:
        """What the request left behind: `files` kept, `written` bytes written (kept or deleted)."""
        with self.quota._lock:
            self.window.files += files - self.files
            self.window.size += written - self.size
            self.files, self.size = files, written

    def check(self) -> None:
        """OverQuota when the window, with this request settled, holds more than the quota allows."""
        with self.quota._lock:
            if self.window.files > self.quota.files or self.window.size > self.quota.size:
                raise OverQuota(self.quota._retry_after(self.window))
