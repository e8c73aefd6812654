"""A tab's history: undo, redo, edit from any result, a cap, and forgetting closed tabs."""

from __future__ import annotations

import gc
import time
import weakref

from PIL import Image

from pipelines.segmenting import Embedding
from pipelines.sessions import SessionStore, StudioSession, Visitor
from tests import samples


def session_with(results: int, max_history: int = 10) -> StudioSession:
    session = StudioSession(max_history=max_history)
    session.start(samples.noise(16, 16, seed=0))
    for i in range(results):
        session.add(samples.noise(16, 16, seed=i + 1), f"edit {i + 1}", seed=i, run_id=f"run{i + 1}")
    return session


def test_undo_and_redo_walk_the_history():
    session = session_with(2)
    assert session.current.label == "edit 2"
    assert session.undo() and session.current.label == "edit 1"
    assert session.undo() and session.current.label == "Original"
    assert not session.undo()
    assert session.redo() and session.redo() and session.current.label == "edit 2"
    assert not session.redo()


def test_editing_an_earlier_result_keeps_the_later_ones():
    session = session_with(2)
    session.select(0)
    made = session.add(samples.noise(16, 16, seed=9), "from the original", seed=1, run_id="r")
    assert [e.label for e in session.entries] == ["Original", "edit 1", "edit 2", "from the original"]
    assert made.parent is session.entries[0] and session.current is made


def test_history_is_capped_but_the_original_stays():
    session = session_with(8, max_history=4)
    assert len(session.entries) == 4
    assert session.entries[0].label == "Original" and session.current.label == "edit 8"


def test_a_new_upload_starts_over():
    session = session_with(3)
    session.start(samples.noise(8, 8))
    assert [e.label for e in session.entries] == ["Original"] and session.position == 0


def test_closing_a_tab_drops_its_pictures_and_cancels_its_run():
    store = SessionStore(max_history=5, idle_s=3600)
    session = store.get("tab-1")
    running = session.begin_run()
    store.drop("tab-1")
    assert len(store) == 0 and running.is_set()


def test_idle_tabs_are_forgotten():
    store = SessionStore(max_history=5, idle_s=0)
    store.get("old")
    store.get("new")  # any visit sweeps idle sessions
    assert len(store) == 1


def picture(megabytes: float) -> Image.Image:
    """An RGB picture of about this many megabytes in memory."""
    side = int((megabytes * 2**20 / 3) ** 0.5)
    return Image.new("RGB", (side, side))


def test_a_tab_belongs_to_whoever_was_signed_in():
    """Finding 8: presenting another user's session hash (or being signed out) finds nothing."""
    store = SessionStore(max_history=5, idle_s=3600)
    store.get("tab", Visitor(1)).start(picture(0.1))
    assert store.get("tab", Visitor(1)).current is not None
    assert store.get("tab", Visitor(2)).current is None
    assert store.get("tab", Visitor(None)).current is None
    store.drop("tab")  # the tab closed: every visitor's pictures under it go
    assert store.get("tab", Visitor(1)).current is None


def test_all_tabs_share_one_memory_budget_least_recently_used_first():
    store = SessionStore(max_history=5, idle_s=3600, memory_bytes=10 * 2**20)
    for name in ("a", "b", "c"):
        store.get(name, Visitor(1)).start(picture(4))
    assert store.nbytes() <= 10 * 2**20
    evicted = store.get("a", Visitor(1))
    assert evicted.current is None and "make room" in evicted.take_notice()
    assert evicted.take_notice() is None  # told once
    assert store.get("c", Visitor(1)).current is not None


def test_one_tab_alone_over_the_budget_keeps_its_original_and_current_picture():
    store = SessionStore(max_history=12, idle_s=3600, memory_bytes=8 * 2**20)  # room for two 3 MB pictures
    session = store.get("big", Visitor(1))
    session.start(picture(3), "Original")
    for step in range(5):
        session.add(picture(3), f"edit {step}", seed=None, run_id=str(step))
    assert [e.label for e in session.entries] == ["Original", "edit 4"]
    assert session.current.label == "edit 4" and session.current.parent is session.entries[0]


def test_anonymous_tabs_are_capped_per_address_and_kept_briefly(monkeypatch):
    store = SessionStore(max_history=5, idle_s=3600, anonymous_idle_s=60, anonymous_per_address=2)
    for name in ("t1", "t2", "t3"):
        store.get(name, Visitor(None, "10.0.0.1")).start(picture(0.1))
    store.get("other", Visitor(None, "10.0.0.2")).start(picture(0.1))
    assert store.get("t1", Visitor(None, "10.0.0.1")).current is None  # the oldest of that address went
    assert all(store.get(n, Visitor(None, a)).current is not None
               for n, a in (("t2", "10.0.0.1"), ("t3", "10.0.0.1"), ("other", "10.0.0.2")))
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert store.get("t2", Visitor(None, "10.0.0.1")).current is None  # anonymous: gone after a minute


def embedding(megabytes: float) -> Embedding:
    """What the Select tool keeps with a picture (pipelines/segmenting.py): tensors of about this size."""
    import torch

    return Embedding.of([torch.zeros(int(megabytes * 2**20 / 4))], (16, 16))


def test_a_pictures_embedding_counts_in_the_budget_and_goes_before_any_picture():
    store = SessionStore(max_history=5, idle_s=3600, memory_bytes=int(7.5 * 2**20))
    first = store.get("a")
    first.start(picture(3))
    first.current.embeddings.put(("sam", "segment_anything"), embedding(2))
    assert store.nbytes() >= 5 * 2**20
    second = store.get("b")
    second.start(picture(3))  # 8 MB: over the 7.5 MB budget; the first tab's embedding goes, its picture stays
    assert first.current is not None and first.current.embeddings.nbytes == 0
    assert store.nbytes() <= 7.5 * 2**20


def test_a_tabs_embeddings_give_way_oldest_picture_first_and_its_pictures_stay():
    store = SessionStore(max_history=5, idle_s=3600, memory_bytes=int(7.5 * 2**20))
    session = store.get("a")
    session.start(picture(2))
    session.current.embeddings.put(("sam", "segment_anything"), embedding(2))
    session.add(picture(2), "edit 1", seed=1, run_id="run1")
    session.current.embeddings.put(("sam", "segment_anything"), embedding(1))
    # 7 MB: within
    assert session.entries[0].embeddings.nbytes > 0
    session.add(picture(1), "edit 2", seed=2, run_id="run2")  # 8 MB: the oldest picture's embedding goes first
    assert session.entries[0].embeddings.nbytes == 0 and session.entries[1].embeddings.nbytes > 0
    assert len(session.entries) == 3


def test_closing_a_tab_drops_the_embeddings_kept_with_its_pictures():
    store = SessionStore(max_history=5, idle_s=3600)
    session = store.get("tab-1")
    session.start(picture(0.1))
    session.current.embeddings.put(("sam", "segment_anything"), embedding(0.5))
    kept = weakref.ref(session.current.embeddings.get(("sam", "segment_anything")))
    del session
    store.drop("tab-1")
    gc.collect()
    assert len(store) == 0 and store.nbytes() == 0 and kept() is None


def test_pictures_to_combine_count_in_the_memory_budget_and_outlive_a_new_photo():
    store = SessionStore(max_history=5, idle_s=3600, memory_bytes=10 * 2**20)
    only_references = store.get("a", Visitor(1))
    only_references.add_reference(picture(4))  # compose's picture 2, before any photo
    assert store.nbytes() == only_references.nbytes > 0
    other = store.get("b", Visitor(1))
    other.start(picture(4))
    other.add_reference(picture(1))
    other.add_reference(picture(2))
    assert store.get("a", Visitor(1)).references == []  # the least recently used tab made room
    assert store.nbytes() <= 10 * 2**20
    other.start(picture(1))  # a new photo 1: the others stay
    assert [p.size for p in other.references] == [picture(1).size, picture(2).size]
    assert other.remove_reference(0) and not other.remove_reference(5)
    assert [p.size for p in other.references] == [picture(2).size]
