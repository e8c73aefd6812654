"""The usage log: one row per run (operation, model, timing, outcome), nothing personal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.tables import usage_events

STATUSES = ("ok", "failed", "cancelled", "rejected")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    user_id: int | None
    operation: str
    model_id: str
    weights: str
    status: str
    duration_ms: int
    input_megapixels: float


class UsageLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, run: RunRecord) -> None:
        if run.status not in STATUSES:
            raise ValueError(f"unknown run status {run.status!r}")
        with self.engine.begin() as conn:
            conn.execute(
                usage_events.insert().values(
                    run_id=run.run_id,
                    user_id=run.user_id,
                    operation=run.operation,
                    model_id=run.model_id[:200],
                    weights=run.weights,
                    status=run.status,
                    duration_ms=run.duration_ms,
                    input_megapixels=round(run.input_megapixels, 4),
                    created_at=datetime.now(UTC),
                )
            )

    def recent(self, limit: int = 100) -> list[dict]:
        query = sa.select(usage_events).order_by(usage_events.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
