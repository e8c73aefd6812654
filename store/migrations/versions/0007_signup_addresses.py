"""sign-up credits once per address: keyed hashes of addresses that had them; usage events get the result's size

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id"), sa.column("email_hash"), sa.column("created_at"))
entries = sa.table("credit_entries", sa.column("user_id"), sa.column("source"))


def upgrade() -> None:
    op.create_table(
        "signup_addresses",
        sa.Column("email_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signup_addresses_created_at", "signup_addresses", ["created_at"])
    with op.batch_alter_table("usage_events") as batch:
        batch.add_column(sa.Column("output_width", sa.Integer, nullable=True))
        batch.add_column(sa.Column("output_height", sa.Integer, nullable=True))
    bind = op.get_bind()
    had_signup = sa.select(entries.c.user_id).where(entries.c.source == "signup")
    rows = bind.execute(  # the users' own hashes, already under the current lookup key
        sa.select(users.c.email_hash, users.c.created_at)
        .where(users.c.email_hash.is_not(None), users.c.id.in_(had_signup))
    ).all()
    if rows:  # live accounts that already had their sign-up credits
        bind.execute(sa.table("signup_addresses", sa.column("email_hash"), sa.column("created_at")).insert(),
                     [{"email_hash": r.email_hash, "created_at": r.created_at} for r in rows])
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE signup_addresses ENABLE ROW LEVEL SECURITY")  # not served by Supabase's REST API


def downgrade() -> None:
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_column("output_height")
        batch.drop_column("output_width")
    op.drop_index("ix_signup_addresses_created_at", "signup_addresses")
    op.drop_table("signup_addresses")
