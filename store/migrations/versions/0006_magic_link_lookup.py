"""magic links: the address's keyed hash, so deletion and export find an address's links without decrypting

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.crypto import migration_cipher

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

links = sa.table("magic_links", sa.column("id"), sa.column("email_enc"), sa.column("email_hash"))


def upgrade() -> None:
    with op.batch_alter_table("magic_links") as batch:
        batch.add_column(sa.Column("email_hash", sa.String(64), nullable=True))
        batch.create_index("ix_magic_links_email_hash", ["email_hash"])
    bind = op.get_bind()
    cipher = migration_cipher()
    for row in bind.execute(sa.select(links.c.id, links.c.email_enc)).all():
        email = cipher.decrypt(row.email_enc, "magic_links.email_enc")
        bind.execute(links.update().where(links.c.id == row.id).values(email_hash=cipher.lookup(email)))


def downgrade() -> None:
    with op.batch_alter_table("magic_links") as batch:
        batch.drop_index("ix_magic_links_email_hash")
        batch.drop_column("email_hash")
