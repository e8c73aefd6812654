"""credits: accounts, append-only entries, run holds; Creem events, checkouts, payments, subscriptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
NEW_TABLES = (
    "credit_accounts", "credit_entries", "credit_holds", "billing_events", "checkout_intents", "payments",
    "subscriptions",
)


def user_fk(**kwargs) -> sa.Column:
    return sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), **kwargs)


def upgrade() -> None:
    op.create_table(
        "credit_accounts",
        user_fk(primary_key=True),
        sa.Column("balance", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("debt", sa.Integer, nullable=False),
        sa.Column("creem_customer_id", sa.String(64), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_credit_accounts_balance"),
        sa.CheckConstraint("reserved >= 0", name="ck_credit_accounts_reserved"),
        sa.CheckConstraint("reserved <= balance", name="ck_credit_accounts_reserved_le_balance"),
        sa.CheckConstraint("debt >= 0", name="ck_credit_accounts_debt"),
    )
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        user_fk(nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("debt", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(120), nullable=True),
        sa.Column("unique_key", sa.String(160), nullable=False, unique=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "credit_holds",
        sa.Column("run_id", sa.String(32), primary_key=True),
        user_fk(nullable=False, index=True),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("resolved_at", TIME, nullable=True),
    )
    op.create_table(
        "billing_events",
        sa.Column("event_id", sa.String(80), primary_key=True),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
    )
    op.create_table(
        "checkout_intents",
        sa.Column("id", sa.String(32), primary_key=True),
        user_fk(nullable=False, index=True),
        sa.Column("product_id", sa.String(80), nullable=False),
        sa.Column("checkout_id", sa.String(80), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payment_key", sa.String(100), nullable=False, unique=True),
        sa.Column("order_id", sa.String(80), nullable=True, index=True),
        user_fk(nullable=True, index=True),
        sa.Column("product_id", sa.String(80), nullable=True),
        sa.Column("credits", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=True),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("refunded_cents", sa.Integer, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(80), primary_key=True),
        user_fk(nullable=False, index=True),
        sa.Column("product_id", sa.String(80), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_at", sa.BigInteger, nullable=False),
        sa.Column("current_period_end", sa.String(40), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in (*NEW_TABLES, "alembic_version"):  # Alembic's own table is served by Supabase too
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
