"""The usage log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from store.db import create_engine, migrate, normalise_url
from store.usage import RunRecord, UsageLog


def record(run_id: str, status: str = "ok") -> RunRecord:
    return RunRecord(run_id, 42, "inpaint", "some/model", "tiny", status, 123, 0.31)




def test_migrations_create_the_table_and_can_run_twice(engine):
    migrate(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("usage_events")}
    assert columns == {
        "id", "run_id", "user_id", "operation", "model_id", "weights", "status", "duration_ms", "input_megapixels",
        "output_width", "output_height", "created_at",
    }
    # no prompt text and no pixels have anywhere to go
    assert not columns & {"prompt", "image", "mask", "pixels", "text"}


def test_a_run_is_recorded_and_read_back(engine):
    log = UsageLog(engine)
    log.record(record("a" * 32))
    log.record(record("b" * 32, "failed"))
    rows = log.recent()
    assert [r["run_id"] for r in rows] == ["b" * 32, "a" * 32]
    assert rows[1]["operation"] == "inpaint" and rows[1]["duration_ms"] == 123
    assert rows[1]["input_megapixels"] == pytest.approx(0.31)


def test_unknown_status_is_refused(engine):
    with pytest.raises(ValueError, match="status"):
        UsageLog(engine).record(record("c" * 32, "maybe"))


def test_run_ids_are_unique(engine):
    log = UsageLog(engine)
    log.record(record("d" * 32))
    with pytest.raises(sa.exc.IntegrityError):
        log.record(record("d" * 32))


def test_concurrent_writers_all_land(engine):
    log = UsageLog(engine)
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                log.record(record(f"{n:02d}{i:030d}"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(log.recent(1000)) == 80


def test_hosting_urls_are_pointed_at_psycopg():
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_takes_the_write_lock_at_begin(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
