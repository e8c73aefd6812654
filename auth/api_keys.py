"""API keys for researchers: shown once, stored as a hash with a visible prefix, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.tokens import hash_token, new_token, touch
from kernel.clock import aware, now
from kernel.errors import UserError
from store.tables import api_keys, users

KEY_PREFIX = "stu_"


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
