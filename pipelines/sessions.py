"""A visitor's pictures for one browser tab: the edit history, undo/redo, the running job.

Kept in server memory only, keyed by Gradio's session hash, and dropped the moment the tab
closes (demo.unload) or after SESSION_IDLE_S without a visit. Nothing here imports gradio.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from PIL import Image


@dataclass(eq=False)
class HistoryEntry:
    image: Image.Image
    label: str
    parent: HistoryEntry | None = None
    seed: int | None = None
    run_id: str | None = None


@dataclass(eq=False)
class StudioSession:
    max_history: int
    entries: list[HistoryEntry] = field(default_factory=list)
    position: int = -1
    last_seen: float = field(default_factory=time.monotonic)
    running: threading.Event | None = None  # set() cancels the run in progress

    @property
    def current(self) -> HistoryEntry | None:
        return self.entries[self.position] if self.entries else None

    def start(self, image: Image.Image, label: str = "Original") -> None:
        """A new upload: the history starts over with the original (labelled in the visitor's language)."""
        self.entries = [HistoryEntry(image=image, label=label)]
        self.position = 0

    def clear(self) -> None:
        self.entries, self.position = [], -1

    def add(self, image: Image.Image, label: str, *, seed: int | None, run_id: str) -> HistoryEntry:
        """A result, made from the current entry, becomes the newest entry and the current one."""
        entry = HistoryEntry(image=image, label=label, parent=self.current, seed=seed, run_id=run_id)
        self.entries.append(entry)
        while len(self.entries) > self.max_history:
            del self.entries[1]  # the oldest result goes; the original stays
        self.position = len(self.entries) - 1
        return entry

    def undo(self) -> bool:
        if self.position > 0:
            self.position -= 1
            return True
        return False

    def redo(self) -> bool:
        if self.position < len(self.entries) - 1:
            self.position += 1
            return True
        return False

    def select(self, index: int) -> bool:
        """'Edit this result': make an earlier entry the one the next edit starts from."""
        if 0 <= index < len(self.entries):
            self.position = index
            return True
        return False

    def begin_run(self) -> threading.Event:
        self.running = threading.Event()
        return self.running

    def end_run(self) -> None:
        self.running = None

    def cancel(self) -> bool:
        if self.running is not None:
            self.running.set()
            return True
        return False


class SessionStore:
    def __init__(self, *, max_history: int, idle_s: float) -> None:
        self.max_history = max_history
        self.idle_s = idle_s
        self._sessions: dict[str, StudioSession] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> StudioSession:
        now = time.monotonic()
        with self._lock:
            self._drop_idle(now)
            session = self._sessions.get(session_id)
            if session is None:
                session = self._sessions[session_id] = StudioSession(max_history=self.max_history)
            session.last_seen = now
            return session

    def drop(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is not None:
            session.cancel()

    def __len__(self) -> int:
        return len(self._sessions)

    def _drop_idle(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > self.idle_s and s.running is None]:
            del self._sessions[key]
