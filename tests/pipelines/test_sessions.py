"""A tab's history: undo, redo, edit from any result, a cap, and forgetting closed tabs."""

from __future__ import annotations

from pipelines.sessions import SessionStore, StudioSession
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
