"""Users and the identities they sign in with: one user per verified e-mail address.

The address and the name are stored encrypted (store/crypto.py); the address is found by its keyed
hash, which is also the subject of the "email" identity. Everything here hands out plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from auth.tokens import normalize_email
from kernel.clock import now
from kernel.errors import UserError
from store.crypto import FieldCipher
from store.tables import identities, users

EMAIL = "email"  # the provider whose subject is the address (stored as its hash)
MAX_NAME = 200
TAKEN = ("That address already belongs to another account. Sign in with it and delete that account first, "
         "or keep your current address.")


class EmailTaken(UserError):
    """Another live account already signs in with that address. The message is safe to show."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str | None
    created_at: datetime


def clean_name(name: str | None) -> str | None:
    """Trimmed, at most 200 characters; empty means no name."""
    return (name or "").strip()[:MAX_NAME] or None


class Users:
    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self.engine = engine
        self.cipher = cipher

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._live().where(users.c.id == user_id)).first()
        return self._user(row) if row else None

    def by_email(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._live().where(users.c.email_hash == self.cipher.lookup(email))).first()
        return self._user(row) if row else None

    def sign_in(self, provider: str, subject: str, email: str, name: str | None = None) -> User:
        """The user behind a verified sign-in, linking or creating as needed, in one transaction.

        A known identity wins; otherwise the verified e-mail finds the account, which gains the
        identity; otherwise a new account is made. For provider "email" the subject is the address.
        """
        subject = self._subject(provider, subject)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(users)
                .join(identities, identities.c.user_id == users.c.id)
                .where(identities.c.provider == provider, identities.c.subject == subject)
            ).first()
            if row is not None:  # deleting an account deletes its identities, so this one is live
                return self._user(row)
            user_row = conn.execute(self._live().where(users.c.email_hash == self.cipher.lookup(email))).first()
            user_id = user_row.id if user_row else self._create(conn, email, name)
            conn.execute(
                identities.insert().values(user_id=user_id, provider=provider, subject=subject, created_at=now())
            )
            if user_row is not None and clean_name(name) and user_row.name_enc is None:
                conn.execute(users.update().where(users.c.id == user_id)
                             .values(name_enc=self.cipher.encrypt(clean_name(name), users.c.name_enc)))
            return self._user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())

    def create(self, email: str, name: str | None = None) -> User:
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(users).where(users.c.email_hash == self.cipher.lookup(email))).first()
            user_id = existing.id if existing else self._create(conn, email, name)
            return self._user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())

    def set_name(self, user_id: int, name: str | None) -> User:
        with self.engine.begin() as conn:
            self._live_row(conn, user_id)
            conn.execute(users.update().where(users.c.id == user_id)
                         .values(name_enc=self.cipher.encrypt(clean_name(name), users.c.name_enc)))
            return self._user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())

    def check_email_free(self, user_id: int, email: str) -> None:
        """Raise EmailTaken when an account other than this one signs in with that address."""
        with self.engine.connect() as conn:
            self._check_free(conn, user_id, self.cipher.lookup(normalize_email(email)))

    def change_email(self, user_id: int, new_email: str) -> User:
        """Move the account (and its e-mail sign-in) to a new, verified address.

        Raises EmailTaken when another live account has that address.
        """
        email = normalize_email(new_email)
        email_hash = self.cipher.lookup(email)
        try:
            with self.engine.begin() as conn:
                self._live_row(conn, user_id)
                self._check_free(conn, user_id, email_hash)
                conn.execute(users.update().where(users.c.id == user_id).values(
                    email_hash=email_hash, email_enc=self.cipher.encrypt(email, users.c.email_enc)))
                conn.execute(identities.update()
                             .where(identities.c.user_id == user_id, identities.c.provider == EMAIL)
                             .values(subject=email_hash))
                return self._user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())
        except sa.exc.IntegrityError as exc:  # another account took it between our check and our write
            raise EmailTaken(TAKEN) from exc

    def identities_of(self, user_id: int) -> list[tuple[str, str]]:
        """(provider, subject) pairs; the e-mail identity shows the account's address, not its hash."""
        query = (
            sa.select(identities.c.provider, identities.c.subject, users.c.email_enc)
            .join(users, users.c.id == identities.c.user_id)
            .where(identities.c.user_id == user_id)
        )
        with self.engine.connect() as conn:
            return [
                (r.provider, self.cipher.decrypt(r.email_enc, users.c.email_enc) if r.provider == EMAIL else r.subject)
                for r in conn.execute(query)
            ]

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            return [self._user(r) for r in conn.execute(self._live().order_by(users.c.id))]

    def delete(self, user_id: int) -> None:
        """Close the account: its address and name are erased, its identities go.

        Its sessions and keys stop working at once, as both are resolved only for users not deleted;
        account deletion (policy/data_rights.py) then deletes them with auth.sessions.
        """
        with self.engine.begin() as conn:
            conn.execute(
                users.update().where(users.c.id == user_id, users.c.deleted_at.is_(None))
                .values(deleted_at=now(), email_hash=None, email_enc=None, name_enc=None)
            )
            conn.execute(identities.delete().where(identities.c.user_id == user_id))

    # ------------------------------------------------------------------ inside

    @staticmethod
    def _live() -> sa.Select:
        return sa.select(users).where(users.c.deleted_at.is_(None))

    def _live_row(self, conn: Connection, user_id: int) -> Row:
        row = conn.execute(self._live().where(users.c.id == user_id)).first()
        if row is None:
            raise UserError("This account no longer exists.")
        return row

    @staticmethod
    def _check_free(conn: Connection, user_id: int, email_hash: str) -> None:
        holders = conn.execute(
            sa.select(users.c.id).where(users.c.email_hash == email_hash)
            .union(sa.select(identities.c.user_id)
                   .where(identities.c.provider == EMAIL, identities.c.subject == email_hash))
        ).scalars().all()
        if any(holder != user_id for holder in holders):
            raise EmailTaken(TAKEN)

    def _subject(self, provider: str, subject: str) -> str:
        return self.cipher.lookup(subject) if provider == EMAIL else subject

    def _create(self, conn: Connection, email: str, name: str | None) -> int:
        return conn.execute(
            users.insert().values(
                email_hash=self.cipher.lookup(email), email_enc=self.cipher.encrypt(email, users.c.email_enc),
                name_enc=self.cipher.encrypt(clean_name(name), users.c.name_enc), created_at=now(),
            )
        ).inserted_primary_key[0]

    def _user(self, row: Row) -> User:
        return User(
            id=row.id, email=self.cipher.decrypt(row.email_enc, users.c.email_enc),
            name=self.cipher.decrypt(row.name_enc, users.c.name_enc), created_at=row.created_at,
        )
