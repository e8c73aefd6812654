"""The usage log: one row per run (operation, model, timing, outcome), nothing personal.

Besides writing rows it answers the Admin tab's questions (runs, durations, failures per day)
and purges rows past the retention period. The aggregates are computed in Python from the rows
of a window, so the SQL is one plain SELECT that behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.tables import usage_events

log = logging.getLogger(__name__)

STATUSES = ("ok", "failed", "cancelled", "rejected")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    user_id: int | None
    operation: str
    model_id: str
    weights: str
    status: str
    duration_ms: int
    input_megapixels: float
    output_size: tuple[int, int] | None = None  # (width, height) of the result


class UsageLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, run: RunRecord) -> None:
        if run.status not in STATUSES:
            raise ValueError(f"unknown run status {run.status!r}")
        with self.engine.begin() as conn:
            conn.execute(
                usage_events.insert().values(
                    run_id=run.run_id,
                    user_id=run.user_id,
                    operation=run.operation,
                    model_id=run.model_id[:200],
                    weights=run.weights,
                    status=run.status,
                    duration_ms=run.duration_ms,
                    input_megapixels=round(run.input_megapixels, 4),
                    output_width=run.output_size[0] if run.output_size else None,
                    output_height=run.output_size[1] if run.output_size else None,
                    created_at=datetime.now(UTC),
                )
            )

    def runs(self, run_ids: list[str]) -> dict[str, tuple[str, tuple[int, int] | None]]:
        """Each run's operation and result size, by run id (what the credit history says a charge was for)."""
        if not run_ids:
            return {}
        c = usage_events.c
        query = sa.select(c.run_id, c.operation, c.output_width, c.output_height).where(c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            return {r.run_id: (r.operation, (r.output_width, r.output_height) if r.output_width else None)
                    for r in conn.execute(query)}

    def typical_seconds(self, operation: str, megapixels: float, runs: int = 50) -> float | None:
        """The median time of the last successful runs of `operation` on pictures of about this size
        (half to twice as many megapixels), for the page's "about N s"; None before there are any."""
        e = usage_events.c
        query = (sa.select(e.duration_ms).where(
            e.operation == operation, e.status == "ok",
            e.input_megapixels.between(megapixels / 2, megapixels * 2),
        ).order_by(e.id.desc()).limit(runs))
        with self.engine.connect() as conn:
            durations = [row.duration_ms for row in conn.execute(query)]
        if not durations:
            return None
        durations.sort()
        return durations[len(durations) // 2] / 1000

    def recent(self, limit: int = 100) -> list[dict]:
        query = sa.select(usage_events).order_by(usage_events.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def anonymise(self, user_id: int) -> None:
        """For account deletion: the user's runs stay in the statistics, no longer linked to anyone."""
        with self.engine.begin() as conn:
            conn.execute(usage_events.update().where(usage_events.c.user_id == user_id).values(user_id=None))

    def purge(self, older_than: datetime) -> int:
        """Delete the rows written before `older_than`, in one statement; returns how many went."""
        with self.engine.begin() as conn:
            result = conn.execute(usage_events.delete().where(usage_events.c.created_at < utc(older_than)))
            return result.rowcount

    def purge_expired(self, retention_days: int) -> int:
        """The retention rule: rows older than `retention_days` go. Logs only the count."""
        deleted = self.purge(datetime.now(UTC) - timedelta(days=retention_days))
        if deleted:
            log.info("purged %d usage events older than %d days", deleted, retention_days)
        return deleted

    def stats(self, window: Window) -> UsageStats:
        """The window's rows, read once, for every aggregate the Admin tab shows."""
        e = usage_events.c
        query = sa.select(e.operation, e.status, e.duration_ms, e.created_at).where(
            e.created_at >= utc(window.start), e.created_at < utc(window.end)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["operation", "status", "duration_ms", "created_at"])
        return UsageStats(frame, window)


def utc(moment: datetime) -> datetime:
    """UTC, because SQLite stores the wall time without its zone; a naive time is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """Whole UTC days, the last of them today; `end` is now, so the window never reaches ahead."""

    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int = 30, now: datetime | None = None) -> Window:
        end = utc(now or datetime.now(UTC))
        first = end.date() - timedelta(days=days - 1)
        return cls(datetime(first.year, first.month, first.day, tzinfo=UTC), end)

    @property
    def days(self) -> list[date]:
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def day_index(self) -> pd.DatetimeIndex:
        """Every day of the window as midnight (naive UTC): what a temporal plot axis wants."""
        return pd.DatetimeIndex([pd.Timestamp(d) for d in self.days], name="day")


def day_of(created_at: pd.Series) -> pd.Series:
    """The UTC day of each timestamp (SQLite hands back naive UTC, PostgreSQL aware times)."""
    return pd.to_datetime(created_at, utc=True).dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")


@dataclass(frozen=True)
class UsageTotals:
    runs: int
    ok: int
    failed: int
    cancelled: int
    rejected: int

    @property
    def failure_rate(self) -> float | None:
        """Failed runs among those that were tried: refused prompts never reached a model, so they don't count."""
        tried = self.ok + self.failed + self.cancelled
        return self.failed / tried if tried else None


class UsageStats:
    """Aggregates over one window's rows, each a DataFrame shaped for a Gradio plot."""

    def __init__(self, events: pd.DataFrame, window: Window) -> None:
        self.window = window
        typed = events.astype({"operation": "str", "status": "str", "duration_ms": "int64"})
        self.events = typed.assign(day=day_of(events["created_at"]))

    def totals(self) -> UsageTotals:
        counts = self.events["status"].value_counts()
        return UsageTotals(len(self.events), *(int(counts.get(status, 0)) for status in STATUSES))

    def runs_per_day(self) -> pd.DataFrame:
        """(day, operation, runs): every day of the window for every operation seen, zeros included,
        so a line drops to zero on a quiet day instead of jumping over it."""
        operations = sorted(self.events["operation"].unique())
        grid = pd.MultiIndex.from_product([self.window.day_index(), operations], names=["day", "operation"])
        counts = self.events.groupby(["day", "operation"]).size().reindex(grid, fill_value=0)
        return counts.rename("runs").reset_index().astype({"runs": "int64", "operation": "str"})

    def durations(self) -> pd.DataFrame:
        """(operation, statistic, seconds) with statistic "median" or "p95", over successful runs.

        Percentiles interpolate linearly between the two nearest runs (pandas' default).
        """
        ok = self.events[self.events["status"] == "ok"]
        seconds = (ok["duration_ms"] / 1000).groupby(ok["operation"])
        wide = pd.DataFrame({"median": seconds.median(), "p95": seconds.quantile(0.95)})
        tidy = wide.rename_axis("operation").reset_index().melt(
            id_vars="operation", var_name="statistic", value_name="seconds"
        )
        return tidy.sort_values(["operation", "statistic"], ignore_index=True).astype(
            {"operation": "str", "statistic": "str", "seconds": "float64"}
        )

    def failure_rate_per_day(self) -> pd.DataFrame:
        """(day, failure_rate): failed / runs that were tried. Days without a tried run have no rate
        and are left out, rather than drawn as a misleading 0."""
        tried = self.events[self.events["status"] != "rejected"]
        per_day = tried.groupby("day")["status"].agg(lambda s: (s == "failed").mean())
        frame = per_day.rename("failure_rate").rename_axis("day").reset_index()
        return frame.astype({"day": "datetime64[ns]", "failure_rate": "float64"})
