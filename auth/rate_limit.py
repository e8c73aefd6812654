"""Counting requests per bucket (an address, an IP) in the database, so every app process agrees."""

from __future__ import annotations

import zlib
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kernel.clock import now
from store.tables import rate_limit_hits


class RateLimiter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def allow(self, bucket: str, limit: int, window: timedelta) -> bool:
        """Count one request in `bucket` unless `limit` were already counted within `window`.

        Count-then-insert runs serialised per bucket (BEGIN IMMEDIATE on SQLite, an advisory lock
        on PostgreSQL), so concurrent processes cannot both slip under the limit.
        """
        moment = now()
        since = moment - window
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(bucket.encode())})
            hits = rate_limit_hits.c
            conn.execute(rate_limit_hits.delete().where(hits.bucket == bucket, hits.created_at <= since))
            used = conn.execute(
                sa.select(sa.func.count()).select_from(rate_limit_hits).where(rate_limit_hits.c.bucket == bucket)
            ).scalar_one()
            if used >= limit:
                return False
            conn.execute(rate_limit_hits.insert().values(bucket=bucket, created_at=moment))
            return True

    def retry_after_s(self, bucket: str, window: timedelta) -> int:
        """Seconds until the oldest request counted in `bucket` leaves the window (at least 1)."""
        with self.engine.connect() as conn:
            oldest = conn.execute(
                sa.select(sa.func.min(rate_limit_hits.c.created_at)).where(rate_limit_hits.c.bucket == bucket)
            ).scalar()
        if oldest is None:
            return 1
        if oldest.tzinfo is None:  # SQLite gives naive UTC back
            oldest = oldest.replace(tzinfo=now().tzinfo)
        return max(1, int((oldest + window - now()).total_seconds()) + 1)
