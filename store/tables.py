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
    sa.Column("user_id", sa.Integer, nullable=True, index=True),  # no foreign key: usage outlives accounts
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("model_id", sa.String(200), nullable=False),
    sa.Column("weights", sa.String(10), nullable=False),  # "real" or "tiny"
    sa.Column("status", sa.String(12), nullable=False),  # ok | failed | cancelled | rejected
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("input_megapixels", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_usage_events_created_at", "created_at"),
)

# ------------------------------------------------------------------ accounts

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=True, unique=True),  # normalised; verified by sign-in
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
)

# A way to sign in: ("google", sub), ("github", id), ("email", address). Each belongs to one user.
identities = sa.Table(
    "identities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(320), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("provider", "subject", name="uq_identities_provider_subject"),
)

# Server-side sessions: the cookie holds a random token, the table only its SHA-256.
auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("device", sa.String(120), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in lists, so a key can be recognised
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

magic_links = sa.Table(
    "magic_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("next_path", sa.String(500), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

# One row per counted request; shared by every app process that uses the database.
rate_limit_hits = sa.Table(
    "rate_limit_hits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("bucket", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_rate_limit_hits_bucket_created_at", "bucket", "created_at"),
)
