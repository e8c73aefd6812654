"""usage events: one row per run, no prompt text, no pixels

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False, unique=True),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("weights", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("input_megapixels", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_usage_events_created_at", "usage_events", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Supabase serves every table in `public` through its REST API unless RLS is on.
        # The app connects as the owner, which RLS does not restrict.
        op.execute("ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("usage_events")
