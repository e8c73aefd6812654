"""The upload folder's bounds: a cap on what it holds, and a sweep of uploads no handler claimed.

The folder is on RAM, and Gradio's upload route writes into it for anyone. Each upload request
gets a folder of its own (`upload-<random>`), which is counted from its first byte: bytes in
flight are counted as they arrive, kept uploads by their size until a handler reads them
(ui/uploads.py take_upload deletes them) or the sweep deletes them `unclaimed_s` after they
landed. A request that would take the folder past `cap` is stopped and its folder deleted, as is
any request that does not finish. Nothing here imports gradio; the route passes `forget`, which
drops deleted paths from Gradio's own list of uploads (Blocks.upload_file_set).
"""

from __future__ import annotations

import math
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import TryLater

PREFIX = "upload-"


class FolderFull(TryLater):
    """The upload folder is at its cap: `retry_after_s` until unclaimed uploads have been swept."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the upload folder is full for up to {retry_after_s} s", retry_after_s)


@dataclass
class _Kept:
    landed: float
    paths: list[str]
    size: int


class UploadFolder:
    """Per-request folders under `root`, at most `cap` bytes together, each deleted once read or unclaimed."""

    def __init__(
        self, root: Path, *, cap: int, unclaimed_s: float,
        forget: Callable[[Iterable[str]], None] = lambda paths: None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root, self.cap, self.unclaimed_s, self.forget, self.clock = root, cap, unclaimed_s, forget, clock
        self._in_flight: dict[Path, int] = {}
        self._kept: dict[Path, _Kept] = {}
        self._to_forget: list[str] = []  # paths deleted since the last sweep, still in Gradio's list
        self._lock = threading.Lock()

    @property
    def sweep_every_s(self) -> float:
        """How often the sweep runs: a few times within `unclaimed_s`, at most every 5 s."""
        return min(5.0, self.unclaimed_s / 4)

    def open(self) -> Path:
        """A fresh, empty folder for one upload request, counted from now on."""
        folder = self.root / f"{PREFIX}{secrets.token_hex(8)}"
        folder.mkdir(mode=0o700)
        with self._lock:
            self._in_flight[folder] = 0
        return folder

    def received(self, folder: Path, count: int) -> None:
        """Body bytes as they arrive for `folder`; FolderFull once the folder as a whole would pass the cap."""
        with self._lock:
            self._in_flight[folder] += count
            if self._held() > self.cap:
                self._drop_claimed()  # kept uploads that handlers have read since: their bytes are free again
                if self._held() > self.cap:
                    raise FolderFull(self.retry_after_s)

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.unclaimed_s + self.sweep_every_s))

    def keep(self, folder: Path, paths: Iterable[str], size: int) -> None:
        """The request finished: its files wait for a handler, or the sweep."""
        with self._lock:
            self._in_flight.pop(folder, None)
            self._kept[folder] = _Kept(self.clock(), [str(path) for path in paths], size)

    def discard(self, folder: Path) -> int:
        """The request failed or was refused: delete whatever it wrote; returns how many bytes that was."""
        written = written_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            self._in_flight.pop(folder, None)
        return written

    def sweep(self) -> int:
        """Delete kept uploads older than `unclaimed_s`, and forget those handlers claimed; returns how many went."""
        now = self.clock()
        with self._lock:
            self._drop_claimed()
            expired = [folder for folder, kept in self._kept.items() if now - kept.landed >= self.unclaimed_s]
            for folder in expired:
                self._to_forget += self._kept.pop(folder).paths
            forgotten, self._to_forget = self._to_forget, []
        for folder in expired:
            shutil.rmtree(folder, ignore_errors=True)
        self.forget(forgotten)
        return len(expired)

    def _held(self) -> int:
        return sum(self._in_flight.values()) + sum(kept.size for kept in self._kept.values())

    def _drop_claimed(self) -> None:
        """Stop counting folders a handler emptied (take_upload deletes the file and the folders it empties)."""
        for folder in [folder for folder in self._kept if not folder.exists()]:
            self._to_forget += self._kept.pop(folder).paths


def written_bytes(folder: Path) -> int:
    """The bytes of every file under `folder` (0 when it is gone)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue  # deleted meanwhile
    return total
