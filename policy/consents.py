"""What each user agreed to: the privacy policy (and terms) by version, and analytics cookies.

Rows are appended, never changed, so the record shows when each choice was made; the newest
row of a kind is the user's current choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kernel.clock import now
from store.tables import consents

POLICY = "policy"  # the privacy policy and the terms, accepted together before the first run
ANALYTICS = "analytics"  # analytics cookies (Google Analytics), only with consent
KINDS = (POLICY, ANALYTICS)


@dataclass(frozen=True)
class Consent:
    kind: str
    version: str
    granted: bool
    at: datetime


class Consents:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, user_id: int, kind: str, version: str, granted: bool) -> Consent:
        if kind not in KINDS:
            raise ValueError(f"unknown consent kind {kind!r}")
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                consents.insert().values(
                    user_id=user_id, kind=kind, version=version[:40], granted=granted, created_at=moment
                )
            )
        return Consent(kind, version[:40], granted, moment)

    def current(self, user_id: int, kind: str) -> Consent | None:
        query = (
            sa.select(consents).where(consents.c.user_id == user_id, consents.c.kind == kind)
            .order_by(consents.c.id.desc()).limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Consent(row.kind, row.version, row.granted, row.created_at) if row else None

    def history(self, user_id: int) -> list[Consent]:
        query = sa.select(consents).where(consents.c.user_id == user_id).order_by(consents.c.id)
        with self.engine.connect() as conn:
            return [Consent(r.kind, r.version, r.granted, r.created_at) for r in conn.execute(query)]

    def forget(self, user_id: int) -> None:
        """For account deletion: the record of choices goes with the account."""
        with self.engine.begin() as conn:
            conn.execute(consents.delete().where(consents.c.user_id == user_id))
