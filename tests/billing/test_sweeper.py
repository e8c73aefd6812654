"""Background housekeeping: each task runs at start-up, then on its period, and survives a failing run."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from billing.sweeper import Periodic, usage_retention
from store.tables import usage_events
from store.usage import UsageLog


def test_a_task_runs_at_once_then_every_period_and_outlives_a_failure(caplog):
    calls: list[int] = []
    third = threading.Event()

    def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("user@example.com")  # a message that must not reach the log
        if len(calls) == 3:
            third.set()

    task = Periodic("test-task", job, every_s=0.05)
    with caplog.at_level(logging.WARNING, logger="billing.sweeper"):
        task.start()
        assert third.wait(5)
        task.stop()
    assert [r.getMessage() for r in caplog.records] == ["test-task failed: RuntimeError"]


def test_usage_retention_purges_at_start(engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(usage_events.insert(), [
            {"run_id": uuid.uuid4().hex, "user_id": None, "operation": "inpaint", "model_id": "m", "weights": "tiny",
             "status": "ok", "duration_ms": 1, "input_megapixels": 0.1, "created_at": now - timedelta(days=age)}
            for age in (31, 29)
        ])
    log = UsageLog(engine)
    task = usage_retention(log, retention_days=30, every_s=3600)
    assert task.name == "usage-retention" and task.every_s == 3600
    task.start()
    task.stop()  # the first run happens before the thread waits on the stop signal
    task._thread.join(5)
    assert len(log.recent()) == 1
