"""Ways back in without signing in again: server-side sessions (cookies) and API keys (Bearer headers).

Both are random secrets handed out once; their tables hold only SHA-256 hashes, the user, and the
times, so a leaked table gives no working cookie or key. Both are revocable, both stop working when
their user's account is deleted, and both record a 'last seen' time (at most once a minute).

Sessions have idle and absolute lifetimes; signing in always makes a new token. API keys are for
researchers: shown once, stored with a visible prefix so the owner can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.tokens import hash_token, new_token
from kernel.clock import aware, now
from kernel.errors import UserError
from store.tables import api_keys, auth_sessions, users

KEY_PREFIX = "stu_"
TOUCH_EVERY = timedelta(minutes=1)


def touch(engine: Engine, column: sa.Column, row_id: int, last: datetime | None) -> None:
    """Record a 'last seen' time at most once a minute: the auth check runs on every request."""
    moment = now()
    if last is None or moment - aware(last) > TOUCH_EVERY:
        table = column.table
        with engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == row_id).values({column.name: moment}))


# ------------------------------------------------------------------ sessions


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    device: str
    created_at: datetime
    last_seen_at: datetime


class Sessions:
    def __init__(self, engine: Engine, *, idle: timedelta, lifetime: timedelta) -> None:
        self.engine = engine
        self.idle = idle
        self.lifetime = lifetime

    def create(self, user_id: int, device: str) -> str:
        """A new session for `user_id`; returns the token for the cookie."""
        token = new_token()
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                auth_sessions.insert().values(
                    token_hash=hash_token(token), user_id=user_id, device=device[:120] or "unknown device",
                    created_at=moment, last_seen_at=moment, expires_at=moment + self.lifetime,
                )
            )
        return token

    def resolve(self, token: str | None) -> SessionInfo | None:
        """The live session behind a cookie token, or None (unknown, revoked, expired, user gone)."""
        if not token or len(token) > 200:
            return None
        query = (
            sa.select(auth_sessions)
            .join(users, users.c.id == auth_sessions.c.user_id)
            .where(auth_sessions.c.token_hash == hash_token(token), auth_sessions.c.revoked_at.is_(None),
                   users.c.deleted_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        moment = now()
        if aware(row.expires_at) <= moment or aware(row.last_seen_at) + self.idle <= moment:
            return None
        touch(self.engine, auth_sessions.c.last_seen_at, row.id, row.last_seen_at)
        return SessionInfo(row.id, row.user_id, row.device, aware(row.created_at), aware(row.last_seen_at))

    def active(self, user_id: int) -> list[SessionInfo]:
        moment = now()
        query = (
            sa.select(auth_sessions)
            .where(auth_sessions.c.user_id == user_id, auth_sessions.c.revoked_at.is_(None))
            .order_by(auth_sessions.c.last_seen_at.desc())
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            SessionInfo(r.id, r.user_id, r.device, aware(r.created_at), aware(r.last_seen_at))
            for r in rows
            if aware(r.expires_at) > moment and aware(r.last_seen_at) + self.idle > moment
        ]

    def revoke(self, session_id: int, user_id: int) -> None:
        """Sign one session out. A user can only revoke their own."""
        with self.engine.begin() as conn:
            conn.execute(
                auth_sessions.update()
                .where(auth_sessions.c.id == session_id, auth_sessions.c.user_id == user_id,
                       auth_sessions.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )

    def revoke_all(self, user_id: int) -> int:
        """Sign out everywhere; returns how many sessions ended."""
        with self.engine.begin() as conn:
            return conn.execute(
                auth_sessions.update()
                .where(auth_sessions.c.user_id == user_id, auth_sessions.c.revoked_at.is_(None))
                .values(revoked_at=now())
            ).rowcount


# ------------------------------------------------------------------ API keys


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, user_id: int, name: str) -> tuple[str, ApiKeyInfo]:
        """A new key; the full key is returned once and never again."""
        name = (name or "").strip()[:80] or "API key"
        key = KEY_PREFIX + new_token(30)
        prefix = key[:12]
        moment = now()
        with self.engine.begin() as conn:
            key_id = conn.execute(
                api_keys.insert().values(
                    user_id=user_id, name=name, prefix=prefix, key_hash=hash_token(key), created_at=moment
                )
            ).inserted_primary_key[0]
        return key, ApiKeyInfo(key_id, name, prefix, moment, None)

    def resolve(self, key: str | None) -> int | None:
        """The user id behind a live key, or None."""
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        query = (
            sa.select(api_keys.c.id, api_keys.c.user_id, api_keys.c.last_used_at)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.key_hash == hash_token(key), api_keys.c.revoked_at.is_(None),
                   users.c.deleted_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        touch(self.engine, api_keys.c.last_used_at, row.id, row.last_used_at)
        return row.user_id

    def active(self, user_id: int) -> list[ApiKeyInfo]:
        query = (
            sa.select(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.id)
        )
        with self.engine.connect() as conn:
            return [
                ApiKeyInfo(r.id, r.name, r.prefix, aware(r.created_at), r.last_used_at and aware(r.last_used_at))
                for r in conn.execute(query)
            ]

    def revoke(self, key_id: int, user_id: int) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            ).rowcount
        if not changed:
            raise UserError("That key does not exist or is already revoked.")


def forget_sessions_and_keys(engine: Engine, user_id: int) -> None:
    """For account deletion: the user's sessions and keys are deleted, not only revoked.

    A function, not a method: account deletion (policy/data_rights.py) has the engine, and needs
    none of the lifetimes a Sessions is built with.
    """
    with engine.begin() as conn:
        conn.execute(auth_sessions.delete().where(auth_sessions.c.user_id == user_id))
        conn.execute(api_keys.delete().where(api_keys.c.user_id == user_id))
