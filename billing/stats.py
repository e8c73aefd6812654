"""Credits sold and spent per day, for the Admin tab.

Read-only, over the ledger's entries (see billing/ledger.py for the kinds and signs): computed in
Python from the rows of a window, so the SQL is one plain SELECT on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.tables import credit_entries
from store.usage import Window, day_of, utc

# Grants paid through Creem: a pack ("purchase") or a subscription period ("subscription").
SOLD_KINDS = ("purchase", "subscription")
KINDS = ("sold", "spent")


def credits_per_day(engine: Engine, window: Window) -> pd.DataFrame:
    """(day, kind, credits) with kind "sold" or "spent", every day of the window, zeros included.

    Sold counts what a payment granted, including the part that settled a debt (that entry has a
    smaller `amount` and a negative `debt`); refunds and chargebacks are not subtracted. Spent is
    what successful runs were charged: a capture's `amount` is minus the run's price.
    """
    c = credit_entries.c
    query = sa.select(c.kind, c.amount, c.debt, c.created_at).where(
        c.created_at >= utc(window.start), c.created_at < utc(window.end),
        sa.or_(sa.and_(c.source == "creem", c.kind.in_(SOLD_KINDS)), c.kind == "capture"),
    )
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(query).all(), columns=["kind", "amount", "debt", "created_at"])
    rows = rows.astype({"kind": "str", "amount": "int64", "debt": "int64"})
    sold = rows["kind"].isin(SOLD_KINDS)
    entries = pd.DataFrame({
        "day": day_of(rows["created_at"]),
        "kind": sold.map({True: "sold", False: "spent"}).astype("str"),
        "credits": (rows["amount"] - rows["debt"]).where(sold, -rows["amount"]).astype("int64"),
    })
    grid = pd.MultiIndex.from_product([window.day_index(), list(KINDS)], names=["day", "kind"])
    per_day = entries.groupby(["day", "kind"])["credits"].sum().reindex(grid, fill_value=0)
    return per_day.rename("credits").reset_index().astype({"kind": "str", "credits": "int64"})


def credit_totals(per_day: pd.DataFrame) -> dict[str, int]:
    """{"sold": n, "spent": m} over a `credits_per_day` frame."""
    sums = per_day.groupby("kind")["credits"].sum()
    return {kind: int(sums.get(kind, 0)) for kind in KINDS}
