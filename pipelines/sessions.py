"""A visitor's pictures for one browser tab: the edit history, undo/redo, the running job.

Kept in server memory only and never on disk. A tab's pictures belong to the tab *and* to who
was signed in when they arrived: the key is (Gradio's session hash, user id), so another user,
or a signed-out client, presenting the same session hash finds nothing.

A tab that reloads (sign-in through Google, a language switch, F5) comes back to its pictures:
the page keeps a random carry token in its sessionStorage, the closing tab's pictures are parked
under it for CARRY_S, and the reloaded page claims them with the same token (for the same user,
or for the user an anonymous tab just signed in as). A tab that stays open while the visitor signs
in elsewhere (the e-mailed link, in another tab) keeps its pictures on its next event.

Memory is bounded for everyone together: PICTURE_MEMORY_MB across all tabs, the least recently
used tabs' pictures dropped first (the tab is told why, once). Anonymous tabs keep pictures only
for ANONYMOUS_IDLE_S and at most ANONYMOUS_TABS_PER_ADDRESS per client address. A tab's pictures
also go the moment it closes (demo.unload) or after SESSION_IDLE_S without a visit. Nothing here
imports gradio.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from pipelines.segmenting import EmbeddingCache

EVICTED = "To make room for other visitors, this tab's pictures were cleared from the server's memory. " \
          "Please upload your photo again."
EXPIRED = "This tab's pictures were cleared after a while without use. Please upload your photo again."
REMEMBERED_NOTICES = 10_000  # tabs told why their pictures went, at most this many remembered
CARRY_S = 120.0  # a reloading tab's pictures wait this long for it


@dataclass(frozen=True)
class Visitor:
    """Whose tab it is: the signed-in user (None: anonymous) and the client's address."""

    user_id: int | None
    address: str = "unknown"

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


def picture_bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


@dataclass(eq=False)
class HistoryEntry:
    image: Image.Image
    label: str
    parent: HistoryEntry | None = None
    seed: int | None = None
    run_id: str | None = None
    placement: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # where its parent sits in it (fractions)
    recipe: dict | None = None  # how it was made (pipelines/recipes.py): in this tab's memory only, never stored
    # The Select tool's image embeddings of this picture (pipelines/segmenting.py): kept with it, counted
    # in the memory budget with it, dropped with it. Never on disk.
    embeddings: EmbeddingCache = field(default_factory=EmbeddingCache, repr=False)

    @property
    def nbytes(self) -> int:
        return picture_bytes(self.image) + self.embeddings.nbytes


@dataclass(eq=False)
class StudioSession:
    max_history: int
    visitor: Visitor = field(default_factory=lambda: Visitor(None))
    entries: list[HistoryEntry] = field(default_factory=list)
    position: int = -1
    last_seen: float = field(default_factory=time.monotonic)
    running: threading.Event | None = None  # set() cancels the run in progress
    notice: str | None = None  # a sentence for the tab, shown once (why its pictures went)
    inputs: dict = field(default_factory=dict)  # the page's last inputs by name, so a reload brings them back
    references: list[Image.Image] = field(default_factory=list)  # pictures to combine with the current one (compose)
    on_grow: Callable[[StudioSession], None] | None = None  # the store keeps memory within its budget

    @property
    def current(self) -> HistoryEntry | None:
        return self.entries[self.position] if self.entries else None

    @property
    def holds_pictures(self) -> bool:
        return bool(self.entries or self.references)

    @property
    def nbytes(self) -> int:
        return sum(entry.nbytes for entry in self.entries) + sum(picture_bytes(image) for image in self.references)

    def start(self, image: Image.Image, label: str = "Original") -> None:
        """A new upload: the history starts over with the original (labelled in the visitor's language)."""
        self.entries = [self._kept(HistoryEntry(image=image, label=label))]
        self.position = 0
        self._grew()

    def _kept(self, entry: HistoryEntry) -> HistoryEntry:
        """A picture of this tab: an embedding kept with it later counts against the memory budget at once."""
        entry.embeddings.on_put = self._grew
        return entry

    def drop_embeddings(self, needed: float = float("inf"), keep: HistoryEntry | None = None) -> int:
        """Forget the embeddings kept with this tab's pictures, oldest picture first, until `needed` bytes are
        freed (all of them by default), never `keep`'s; the bytes freed."""
        freed = 0
        for entry in self.entries:
            if freed >= needed:
                break
            if entry is not keep:
                freed += entry.embeddings.nbytes
                entry.embeddings.clear()
        return freed

    def clear(self) -> None:
        self.entries, self.position, self.references = [], -1, []

    def add_reference(self, image: Image.Image) -> None:
        """A picture to combine with the current one; they stay when the current one changes."""
        self.references.append(image)
        self._grew()

    def remove_reference(self, index: int) -> bool:
        if 0 <= index < len(self.references):
            del self.references[index]
            return True
        return False

    def add(self, image: Image.Image, label: str, *, seed: int | None, run_id: str,
            placement: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
            recipe: dict | None = None) -> HistoryEntry:
        """A result, made from the current entry, becomes the newest entry and the current one."""
        entry = self._kept(HistoryEntry(image=image, label=label, parent=self.current, seed=seed, run_id=run_id,
                                        placement=placement, recipe=recipe))
        self.entries.append(entry)
        while len(self.entries) > self.max_history:
            self._remove(1)  # the oldest result goes; the original stays
        self.position = len(self.entries) - 1
        self._grew()
        return entry

    def forget_oldest_result(self) -> bool:
        """Drop the oldest result that is neither the original nor the current picture; False when none is."""
        for index in range(1, len(self.entries)):
            if index != self.position:
                self._remove(index)
                self.position -= 1 if self.position > index else 0
                return True
        return False

    def _remove(self, index: int) -> None:
        """Forget one entry; pictures made from it now count as made from its own parent (no hidden copy stays)."""
        gone = self.entries.pop(index)
        for entry in self.entries:
            if entry.parent is gone:
                entry.parent = gone.parent

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

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice

    def _grew(self) -> None:
        if self.on_grow is not None:
            self.on_grow(self)


Key = tuple[str, int | None]


class SessionStore:
    def __init__(self, *, max_history: int, idle_s: float, anonymous_idle_s: float | None = None,
                 memory_bytes: int | None = None, anonymous_per_address: int | None = None) -> None:
        self.max_history = max_history
        self.idle_s = idle_s
        self.anonymous_idle_s = idle_s if anonymous_idle_s is None else anonymous_idle_s
        self.memory_bytes = memory_bytes  # None: no budget
        self.anonymous_per_address = anonymous_per_address
        self._sessions: OrderedDict[Key, StudioSession] = OrderedDict()  # least recently used first
        self._notices: OrderedDict[Key, str] = OrderedDict()
        self._tokens: dict[str, str] = {}  # session id -> the tab's carry token
        self._parked: dict[str, tuple[float, StudioSession]] = {}  # carry token -> (until, the pictures)
        self._lock = threading.RLock()

    def get(self, session_id: str, visitor: Visitor | None = None) -> StudioSession:
        """This tab's session for this visitor (a new, empty one the first time)."""
        visitor = visitor or Visitor(None)
        key = (session_id, visitor.user_id)
        now = time.monotonic()
        with self._lock:
            self._drop_idle(now)
            session = self._sessions.get(key) or self._signed_in_since(session_id, visitor)
            if session is None:
                session = StudioSession(max_history=self.max_history, visitor=visitor, on_grow=self._fit)
                session.notice = self._notices.pop(key, None)
                self._sessions[key] = session
            self._sessions.move_to_end(key)
            session.last_seen = now
            return session

    def drop(self, session_id: str) -> None:
        """The tab closed: its pictures go now, whoever it belonged to (or wait CARRY_S for its reload)."""
        with self._lock:
            dropped = [self._sessions.pop(key) for key in list(self._sessions) if key[0] == session_id]
            token = self._tokens.pop(session_id, None)
            keep = next((s for s in reversed(dropped) if s.holds_pictures), None) if token else None
            if keep is not None:
                self._parked[token] = (time.monotonic() + CARRY_S, keep)
        for session in dropped:
            session.cancel()
        if dropped and keep is None:
            release_memory()

    def carry(self, session_id: str, token: str, visitor: Visitor) -> StudioSession | None:
        """A (re)loaded tab presents its carry token: its parked pictures, if they may be its own."""
        if not token or len(token) > 100:
            return None
        with self._lock:
            previous = next((sid for sid, t in self._tokens.items() if t == token and sid != session_id), None)
            self._tokens[session_id] = token
            if previous is not None:  # the old page's unload has not arrived yet: its pictures are still live
                self.drop(previous)
            until, parked = self._parked.get(token, (0.0, None))
            if parked is None or until < time.monotonic() or parked.visitor.user_id not in (None, visitor.user_id):
                self.get(session_id, visitor)  # nothing to bring back (or another user's): the tab starts empty
                return None
            del self._parked[token]
            parked.visitor, parked.last_seen = visitor, time.monotonic()
            self._sessions[(session_id, visitor.user_id)] = parked
            return parked

    def __len__(self) -> int:
        return len(self._sessions) + len(self._parked)

    def nbytes(self) -> int:
        with self._lock:
            return sum(session.nbytes for session in self._all())

    def _all(self) -> list[StudioSession]:
        return [*self._sessions.values(), *(session for _until, session in self._parked.values())]

    def _signed_in_since(self, session_id: str, visitor: Visitor) -> StudioSession | None:
        """The same tab, anonymous a moment ago and signed in now (from the same address): its pictures follow."""
        if visitor.anonymous:
            return None
        before = self._sessions.get((session_id, None))
        if before is None or before.visitor.address != visitor.address:
            return None
        del self._sessions[(session_id, None)]
        before.visitor = visitor
        self._sessions[(session_id, visitor.user_id)] = before
        return before

    # ------------------------------------------------------------------ inside

    def _fit(self, grown: StudioSession) -> None:
        """After a tab gained a picture: keep anonymous tabs per address, and all pictures, within bounds."""
        evicted = False
        with self._lock:
            if grown.visitor.anonymous and self.anonymous_per_address is not None:
                same_address = [key for key, s in self._sessions.items()
                                if s.visitor.anonymous and s.visitor.address == grown.visitor.address
                                and s.holds_pictures]
                for key in same_address[: max(0, len(same_address) - self.anonymous_per_address)]:
                    evicted |= self._evict(key, grown)
            if self.memory_bytes is not None:
                self._drop_embeddings_over_budget(grown)
                for token in [t for t, (_until, parked) in self._parked.items() if parked.holds_pictures]:
                    if sum(s.nbytes for s in self._all()) <= self.memory_bytes:
                        break
                    del self._parked[token]  # a reload that may never come gives way first
                    evicted = True
                total = sum(s.nbytes for s in self._sessions.values())
                for key in list(self._sessions):  # least recently used first
                    if total <= self.memory_bytes:
                        break
                    size = self._sessions[key].nbytes
                    if self._evict(key, grown):
                        total, evicted = total - size, True
                while total > self.memory_bytes and grown.forget_oldest_result():  # one tab alone is too big
                    total, evicted = sum(s.nbytes for s in self._sessions.values()), True
        if evicted:
            release_memory()

    def _drop_embeddings_over_budget(self, grown: StudioSession) -> None:
        """Embeddings are the cheapest thing to lose (the next click remakes one): they go before any picture,
        other tabs' first (least recently used first), then the grown tab's except its current picture's."""
        total = sum(s.nbytes for s in self._all())
        for session in [s for s in self._all() if s is not grown] + [grown]:
            if total <= self.memory_bytes:
                return
            keep = grown.current if session is grown else None
            total -= session.drop_embeddings(total - self.memory_bytes, keep=keep)

    def _evict(self, key: Key, keep: StudioSession) -> bool:
        session = self._sessions[key]
        if session is keep or session.running is not None or not session.holds_pictures:
            return False
        del self._sessions[key]
        self._remember(key, EVICTED)
        return True

    def _remember(self, key: Key, notice: str) -> None:
        self._notices[key] = notice
        while len(self._notices) > REMEMBERED_NOTICES:
            self._notices.popitem(last=False)

    def _drop_idle(self, now: float) -> None:
        for token in [t for t, (until, _session) in self._parked.items() if until < now]:
            del self._parked[token]
        for key, session in list(self._sessions.items()):
            limit = self.anonymous_idle_s if session.visitor.anonymous else self.idle_s
            if now - session.last_seen > limit and session.running is None:
                del self._sessions[key]
                if not any(other[0] == key[0] for other in self._sessions):
                    self._tokens.pop(key[0], None)
                if session.holds_pictures:
                    self._remember(key, EXPIRED)


_last_release = 0.0


def release_memory(every_s: float = 5.0) -> None:
    """Hand freed picture memory back to the system (glibc keeps it otherwise), at most every few seconds."""
    global _last_release
    now = time.monotonic()
    if now - _last_release < every_s:
        return
    _last_release = now
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
            ctypes.CDLL(name).malloc_trim(0)
