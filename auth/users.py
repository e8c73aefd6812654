"""Users and the identities they sign in with: one user per verified e-mail address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.tokens import now
from store.tables import api_keys, auth_sessions, identities, users


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str | None
    created_at: datetime


def _user(row) -> User:
    return User(id=row.id, email=row.email, name=row.name, created_at=row.created_at)


class Users:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, user_id: int) -> User | None:
        query = sa.select(users).where(users.c.id == user_id, users.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _user(row) if row else None

    def by_email(self, email: str) -> User | None:
        query = sa.select(users).where(users.c.email == email, users.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _user(row) if row else None

    def sign_in(self, provider: str, subject: str, email: str, name: str | None = None) -> User:
        """The user behind a verified sign-in, linking or creating as needed, in one transaction.

        A known identity wins; otherwise the verified e-mail finds the account, which gains the
        identity; otherwise a new account is made.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(users)
                .join(identities, identities.c.user_id == users.c.id)
                .where(identities.c.provider == provider, identities.c.subject == subject)
            ).first()
            if row is not None:  # deleting an account deletes its identities, so this one is live
                return _user(row)
            user_row = conn.execute(
                sa.select(users).where(users.c.email == email, users.c.deleted_at.is_(None))
            ).first()
            user_id = user_row.id if user_row else self._create(conn, email, name)
            conn.execute(
                identities.insert().values(user_id=user_id, provider=provider, subject=subject, created_at=now())
            )
            if user_row is not None and name and not user_row.name:
                conn.execute(users.update().where(users.c.id == user_id).values(name=name[:200]))
            return _user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())

    def create(self, email: str, name: str | None = None) -> User:
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(users).where(users.c.email == email)).first()
            user_id = existing.id if existing else self._create(conn, email, name)
            return _user(conn.execute(sa.select(users).where(users.c.id == user_id)).one())

    @staticmethod
    def _create(conn: Connection, email: str, name: str | None) -> int:
        return conn.execute(
            users.insert().values(email=email, name=(name or None) and name[:200], created_at=now())
        ).inserted_primary_key[0]

    def identities_of(self, user_id: int) -> list[tuple[str, str]]:
        query = sa.select(identities.c.provider, identities.c.subject).where(identities.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [(r.provider, r.subject) for r in conn.execute(query)]

    def all(self) -> list[User]:
        query = sa.select(users).where(users.c.deleted_at.is_(None)).order_by(users.c.id)
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(query)]

    def delete(self, user_id: int) -> None:
        """Close the account: it can no longer sign in, its sessions and keys stop working at once."""
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                users.update().where(users.c.id == user_id, users.c.deleted_at.is_(None))
                .values(deleted_at=moment, email=None, name=None)
            )
            conn.execute(identities.delete().where(identities.c.user_id == user_id))
            conn.execute(
                auth_sessions.update().where(auth_sessions.c.user_id == user_id, auth_sessions.c.revoked_at.is_(None))
                .values(revoked_at=moment)
            )
            conn.execute(
                api_keys.update().where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=moment)
            )
