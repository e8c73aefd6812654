"""personal fields encrypted at rest: users' address and name, magic links' address; e-mail found by keyed hash

users.email and users.name become email_hash (HMAC, unique), email_enc and name_enc; e-mail
identities keep the hash instead of the address; magic links keep the address encrypted and gain a
purpose (sign_in, change_email) and the user a change_email link is for. Existing rows are converted
with the cipher store.db.migrate hands over (config.attributes["cipher"]), else one built from Settings().

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.crypto import migration_cipher

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The tables as this revision sees them, whatever store/tables.py says later.
users = sa.table(
    "users", sa.column("id"), sa.column("email"), sa.column("name"),
    sa.column("email_hash"), sa.column("email_enc"), sa.column("name_enc"),
)
identities = sa.table("identities", sa.column("id"), sa.column("user_id"), sa.column("provider"), sa.column("subject"))
magic_links = sa.table("magic_links", sa.column("id"), sa.column("email"), sa.column("email_enc"),
                       sa.column("purpose"))
USERS_EMAIL, USERS_NAME, LINKS_EMAIL = "users.email_enc", "users.name_enc", "magic_links.email_enc"


def _update_each(table: sa.TableClause, rows: list, values) -> None:
    """One UPDATE per row, with the values `values(row)` gives."""
    bind = op.get_bind()
    for row in rows:
        bind.execute(table.update().where(table.c.id == row.id).values(values(row)))


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("email_enc", sa.Text, nullable=True))
        batch.add_column(sa.Column("name_enc", sa.Text, nullable=True))
        batch.create_unique_constraint("uq_users_email_hash", ["email_hash"])
    with op.batch_alter_table("magic_links") as batch:
        batch.add_column(sa.Column("email_enc", sa.Text, nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(20), nullable=False, server_default="sign_in"))
        batch.add_column(sa.Column("user_id", sa.Integer, nullable=True))

    people = bind.execute(sa.select(users.c.id, users.c.email, users.c.name)).all()
    email_identities = bind.execute(
        sa.select(identities.c.id, identities.c.subject).where(identities.c.provider == "email")
    ).all()
    links = bind.execute(sa.select(magic_links.c.id, magic_links.c.email)).all()
    if people or email_identities or links:
        cipher = migration_cipher()
        _update_each(users, people, lambda r: {
            "email_hash": cipher.lookup(r.email) if r.email is not None else None,
            "email_enc": cipher.encrypt(r.email, USERS_EMAIL), "name_enc": cipher.encrypt(r.name, USERS_NAME),
        })
        _update_each(identities, email_identities, lambda r: {"subject": cipher.lookup(r.subject)})
        _update_each(magic_links, links, lambda r: {"email_enc": cipher.encrypt(r.email, LINKS_EMAIL)})

    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
        batch.drop_column("name")
    with op.batch_alter_table("magic_links") as batch:
        batch.drop_column("email")
        batch.alter_column("email_enc", existing_type=sa.Text, nullable=False)


def downgrade() -> None:
    """Back to plaintext (a way out, not a routine step): e-mail identities take the account's address."""
    bind = op.get_bind()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
    with op.batch_alter_table("magic_links") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
    bind.execute(magic_links.delete().where(magic_links.c.purpose != "sign_in"))  # 0004 would read them as sign-ins

    people = bind.execute(sa.select(users.c.id, users.c.email_enc, users.c.name_enc)).all()
    links = bind.execute(sa.select(magic_links.c.id, magic_links.c.email_enc)).all()
    if people or links:
        cipher = migration_cipher()
        _update_each(users, people, lambda r: {
            "email": cipher.decrypt(r.email_enc, USERS_EMAIL), "name": cipher.decrypt(r.name_enc, USERS_NAME),
        })
        _update_each(magic_links, links, lambda r: {"email": cipher.decrypt(r.email_enc, LINKS_EMAIL)})
        bind.execute(
            identities.update().where(identities.c.provider == "email")
            .values(subject=sa.select(users.c.email).where(users.c.id == identities.c.user_id).scalar_subquery())
        )

    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email_hash", type_="unique")
        batch.drop_column("email_hash")
        batch.drop_column("email_enc")
        batch.drop_column("name_enc")
        batch.create_unique_constraint("users_email_key", ["email"])
    with op.batch_alter_table("magic_links") as batch:
        batch.drop_column("email_enc")
        batch.drop_column("purpose")
        batch.drop_column("user_id")
        batch.alter_column("email", existing_type=sa.String(320), nullable=False)
