"""Server-side sign-in sessions: revocable, with idle and absolute lifetimes.

The browser's cookie holds a random token; the table holds its SHA-256, the user, a short
device description, and the times. Signing in always makes a new token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.tokens import hash_token, new_token, touch
from kernel.clock import aware, now
from store.tables import auth_sessions, users


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
