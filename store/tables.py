"""Table definitions (SQLAlchemy Core). Alembic migrations create them; this module describes them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per run: what ran, how long, how it ended. Never a prompt, never pixels.
usage_events = sa.Table(
    "usage_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), nullable=False, unique=True),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("model_id", sa.String(200), nullable=False),
    sa.Column("weights", sa.String(10), nullable=False),  # "real" or "tiny"
    sa.Column("status", sa.String(12), nullable=False),  # ok | failed | cancelled | rejected
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("input_megapixels", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_usage_events_created_at", "created_at"),
)
