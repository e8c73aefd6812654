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
    sa.Column("output_width", sa.Integer, nullable=True),  # the result's size, for the credit history's rows
    sa.Column("output_height", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_usage_events_created_at", "created_at"),
)

# ------------------------------------------------------------------ accounts

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # The normalised, verified address and the name are encrypted (store/crypto.py); the address is
    # found by its keyed hash. All three are erased when the account is deleted.
    sa.Column("email_hash", sa.String(64), nullable=True),
    sa.Column("email_enc", sa.Text, nullable=True),
    sa.Column("name_enc", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("email_hash", name="uq_users_email_hash"),
)

# A way to sign in: ("google", sub), ("github", id), ("email", keyed hash of the address). Each belongs to
# one user.
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
    sa.Column("email_enc", sa.Text, nullable=False),  # where it was sent, encrypted
    sa.Column("email_hash", sa.String(64), nullable=True, index=True),  # the same address, keyed hash (lookups)
    sa.Column("next_path", sa.String(500), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False, server_default="sign_in"),  # sign_in | change_email
    sa.Column("user_id", sa.Integer, nullable=True),  # change_email: whose address changes
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

# ------------------------------------------------------------------ credits

# The hot row: what a user has. Changed only together with a ledger entry, in one transaction.
signup_addresses = sa.Table(  # addresses that have had sign-up credits, as keyed hashes only; outlive accounts
    "signup_addresses",
    metadata,
    sa.Column("email_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

credit_accounts = sa.Table(
    "credit_accounts",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("balance", sa.Integer, nullable=False),  # credits owned, including those held for runs
    sa.Column("reserved", sa.Integer, nullable=False),  # held for runs in progress
    sa.Column("debt", sa.Integer, nullable=False),  # taken back after being spent; blocks spending
    sa.Column("creem_customer_id", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("balance >= 0", name="ck_credit_accounts_balance"),
    sa.CheckConstraint("reserved >= 0", name="ck_credit_accounts_reserved"),
    sa.CheckConstraint("reserved <= balance", name="ck_credit_accounts_reserved_le_balance"),
    sa.CheckConstraint("debt >= 0", name="ck_credit_accounts_debt"),
)

# Append-only. The sums of amount, held and debt over a user's entries equal the account row.
credit_entries = sa.Table(
    "credit_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # grant purchase subscription hold capture release refund ...
    sa.Column("amount", sa.Integer, nullable=False),  # change of balance
    sa.Column("held", sa.Integer, nullable=False),  # change of reserved
    sa.Column("debt", sa.Integer, nullable=False),  # change of debt
    sa.Column("source", sa.String(20), nullable=False),  # signup operator run creem sweeper
    sa.Column("reference", sa.String(120), nullable=True),  # run id, order id, transaction id ...
    sa.Column("unique_key", sa.String(160), nullable=False, unique=True),  # one entry per business event
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

credit_holds = sa.Table(
    "credit_holds",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # held captured released
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
)

# ------------------------------------------------------------------ Creem

billing_events = sa.Table(  # every webhook event applied, by Creem's event id
    "billing_events",
    metadata,
    sa.Column("event_id", sa.String(80), primary_key=True),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

checkout_intents = sa.Table(  # our side of a checkout: its id travels as Creem's request_id
    "checkout_intents",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("product_id", sa.String(80), nullable=False),
    sa.Column("checkout_id", sa.String(80), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),  # created completed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# What each payment granted, so a refund or a dispute can take back the right amount, once.
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("payment_key", sa.String(100), nullable=False, unique=True),  # order id (packs), transaction id
    sa.Column("order_id", sa.String(80), nullable=True, index=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("product_id", sa.String(80), nullable=True),
    sa.Column("credits", sa.Integer, nullable=False),  # granted (0 until the grant arrives)
    sa.Column("amount_cents", sa.Integer, nullable=True),
    sa.Column("currency", sa.String(8), nullable=True),
    sa.Column("refunded_cents", sa.Integer, nullable=True),  # set by refund.created / dispute.created
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),  # Creem's subscription id
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("product_id", sa.String(80), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_at", sa.BigInteger, nullable=False),  # the event time that set it (ms): older events lose
    sa.Column("current_period_end", sa.String(40), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# ------------------------------------------------------------------ privacy

# Append-only: each agreement or withdrawal (kind: policy, analytics), with the version shown. The newest row wins.
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_consents_user_kind", "user_id", "kind"),
)
