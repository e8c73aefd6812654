"""Credits sold and spent per day, for the Admin tab.

Read-only, over the ledger's entries (billing/ledger.py reads them and defines the kinds and signs):
computed here in Python from the rows of a window, so the SQL stays one plain SELECT.
"""

from __future__ import annotations

import pandas as pd

from billing.ledger import SOLD_KINDS, Ledger
from store.usage import Window, day_of, utc

KINDS = ("sold", "spent")


def credits_per_day(ledger: Ledger, window: Window) -> pd.DataFrame:
    """(day, kind, credits) with kind "sold" or "spent", every day of the window, zeros included.

    Sold counts what a payment granted, including the part that settled a debt (that entry has a
    smaller `amount` and a negative `debt`); refunds and chargebacks are not subtracted. Spent is
    what successful runs were charged: a capture's `amount` is minus the run's price.
    """
    found = ledger.sold_and_spent(utc(window.start), utc(window.end))
    rows = pd.DataFrame(found, columns=["kind", "amount", "debt", "created_at"])
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
