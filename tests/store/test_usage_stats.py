"""The Admin tab's numbers and the retention purge, on SQLite and on PostgreSQL, from rows at chosen times."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy as sa

from billing.ledger import Ledger
from billing.stats import credit_totals, credits_per_day
from store.tables import credit_entries, usage_events, users
from store.usage import UsageLog, Window

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEEK = Window.last_days(7, now=NOW)  # 2026-03-04 00:00 .. 2026-03-10 12:00 UTC


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


def add_events(engine, *events: tuple[str, str, float, datetime]) -> None:
    """(operation, status, seconds, created_at) rows, written as the app writes them."""
    with engine.begin() as conn:
        conn.execute(usage_events.insert(), [
            {"run_id": uuid.uuid4().hex, "user_id": 7, "operation": op, "model_id": "m", "weights": "tiny",
             "status": status, "duration_ms": round(seconds * 1000), "input_megapixels": 0.1, "created_at": when}
            for op, status, seconds, when in events
        ])


def week_of_runs(engine) -> None:
    add_events(
        engine,
        *[("inpaint", "ok", s, at(5, 9)) for s in range(1, 21)],  # 1..20 s
        ("inpaint", "failed", 99, at(5, 10)), ("inpaint", "failed", 99, at(5, 11)),  # slow failures: not timed
        ("inpaint", "cancelled", 50, at(5, 12)),
        *[("inpaint", "rejected", 0, at(5, 13)) for _ in range(3)],
        ("inpaint", "rejected", 0, at(7)),  # a day with only a refused run has no failure rate
        ("upscale", "ok", 2, at(9, 0)), ("upscale", "ok", 4, at(9, 1)),
        ("upscale", "failed", 1, at(9, 23, 59, 59, 999_999)),  # the day's last microsecond is still that day
        ("restyle", "ok", 5, WEEK.start),  # the window's first instant is in
        ("restyle", "ok", 5, WEEK.start - timedelta(microseconds=1)),  # out: before the window
        ("restyle", "ok", 5, NOW + timedelta(seconds=1)),  # out: after its end
    )


def test_the_window_is_whole_utc_days_ending_now():
    assert WEEK.start == datetime(2026, 3, 4, tzinfo=UTC) and WEEK.end == NOW
    assert len(WEEK.days) == 7 and WEEK.days[-1] == NOW.date()
    stockholm = datetime(2026, 3, 10, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # still 9 March in UTC
    assert Window.last_days(30, now=stockholm).days[-1].isoformat() == "2026-03-09"
    assert len(Window.last_days(30, now=stockholm).days) == 30


def test_totals_and_failure_rate(engine):
    week_of_runs(engine)
    totals = UsageLog(engine).stats(WEEK).totals()
    assert (totals.runs, totals.ok, totals.failed, totals.cancelled, totals.rejected) == (31, 23, 3, 1, 4)
    assert totals.failure_rate == pytest.approx(3 / 27)  # refused runs are neither failures nor tries


def test_runs_per_day_per_operation_with_quiet_days_as_zero(engine):
    week_of_runs(engine)
    runs = UsageLog(engine).stats(WEEK).runs_per_day()
    assert list(runs.columns) == ["day", "operation", "runs"]
    assert len(runs) == 7 * 3  # every day of the window for inpaint, restyle, upscale
    counted = {(row.day.date().isoformat(), row.operation): row.runs for row in runs.itertuples() if row.runs}
    assert counted == {
        ("2026-03-04", "restyle"): 1,
        ("2026-03-05", "inpaint"): 26,
        ("2026-03-07", "inpaint"): 1,
        ("2026-03-09", "upscale"): 3,
    }
    assert runs["runs"].sum() == 31
    assert pd.api.types.is_datetime64_any_dtype(runs["day"])  # a temporal axis for gr.LinePlot


def test_median_and_p95_of_successful_runs(engine):
    week_of_runs(engine)
    durations = UsageLog(engine).stats(WEEK).durations()
    assert list(durations.columns) == ["operation", "statistic", "seconds"]
    got = {(row.operation, row.statistic): row.seconds for row in durations.itertuples()}
    assert got == {
        ("inpaint", "median"): pytest.approx(10.5),
        ("inpaint", "p95"): pytest.approx(19.05),  # 1..20 s: between the 19th and 20th run, linearly
        ("restyle", "median"): pytest.approx(5.0),
        ("restyle", "p95"): pytest.approx(5.0),
        ("upscale", "median"): pytest.approx(3.0),
        ("upscale", "p95"): pytest.approx(3.9),
    }


def test_failure_rate_per_day(engine):
    week_of_runs(engine)
    rates = UsageLog(engine).stats(WEEK).failure_rate_per_day()
    assert list(rates.columns) == ["day", "failure_rate"]
    got = {row.day.date().isoformat(): row.failure_rate for row in rates.itertuples()}
    assert got == {"2026-03-04": 0.0, "2026-03-05": pytest.approx(2 / 23), "2026-03-09": pytest.approx(1 / 3)}


def test_an_empty_window_gives_empty_frames_a_plot_accepts(engine):
    stats = UsageLog(engine).stats(WEEK)
    assert stats.totals().runs == 0 and stats.totals().failure_rate is None
    assert stats.runs_per_day().empty and stats.durations().empty and stats.failure_rate_per_day().empty
    import gradio as gr

    for frame, x, y in ((stats.runs_per_day(), "day", "runs"), (stats.durations(), "operation", "seconds"),
                        (stats.failure_rate_per_day(), "day", "failure_rate")):
        assert gr.LinePlot(x=x, y=y).postprocess(frame).data == []


# ------------------------------------------------------------------ credits sold and spent


def add_entries(engine, *entries: tuple[str, str, int, int, int, datetime]) -> None:
    """(kind, source, amount, held, debt, created_at) rows for one user."""
    with engine.begin() as conn:
        user_id = conn.execute(users.insert().values(created_at=NOW).returning(users.c.id)).scalar_one()
        conn.execute(credit_entries.insert(), [
            {"user_id": user_id, "kind": kind, "amount": amount, "held": held, "debt": debt, "source": source,
             "reference": None, "unique_key": uuid.uuid4().hex, "created_at": when}
            for kind, source, amount, held, debt, when in entries
        ])


def test_credits_sold_and_spent_per_day(engine):
    add_entries(
        engine,
        ("purchase", "creem", 5, 0, 0, WEEK.start),  # the window's first instant is in
        ("purchase", "creem", 100, 0, 0, at(5, 10)),
        ("subscription", "creem", 70, 0, -30, at(5, 11)),  # 100 sold, 30 of them settled a debt
        ("hold", "run", 0, 4, 0, at(6, 9)), ("capture", "run", -4, -4, 0, at(6, 9, 1)),
        ("hold", "run", 0, 3, 0, at(6, 10)), ("capture", "run", -3, -3, 0, at(6, 10, 1)),
        ("hold", "run", 0, 9, 0, at(6, 11)), ("release", "run", 0, -9, 0, at(6, 11, 1)),  # a failed run: free
        ("grant", "signup", 10, 0, 0, at(6)), ("grant", "operator", 1000, 0, 0, at(6)),  # given, not sold
        ("refund", "creem", -50, 0, 0, at(6)),  # not subtracted from what was sold
        ("purchase", "creem", 500, 0, 0, WEEK.start - timedelta(microseconds=1)),  # before the window
        ("capture", "run", -8, -8, 0, NOW + timedelta(seconds=1)),  # after it
    )
    per_day = credits_per_day(Ledger(engine, signup_credits=0, hold_minutes=30), WEEK)
    assert list(per_day.columns) == ["day", "kind", "credits"]
    assert len(per_day) == 7 * 2
    nonzero = {(row.day.date().isoformat(), row.kind): row.credits for row in per_day.itertuples() if row.credits}
    assert nonzero == {("2026-03-04", "sold"): 5, ("2026-03-05", "sold"): 200, ("2026-03-06", "spent"): 7}
    assert credit_totals(per_day) == {"sold": 205, "spent": 7}


def test_no_credit_entries_gives_zero_days(engine):
    per_day = credits_per_day(Ledger(engine, signup_credits=0, hold_minutes=30), WEEK)
    assert len(per_day) == 14 and per_day["credits"].sum() == 0
    assert credit_totals(per_day) == {"sold": 0, "spent": 0}


# ------------------------------------------------------------------ retention


def remaining(engine) -> list[datetime]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(usage_events.c.created_at).order_by(usage_events.c.created_at)).scalars()
        return [r if r.tzinfo else r.replace(tzinfo=UTC) for r in rows]


@pytest.mark.parametrize("cutoff", [
    at(5),
    at(5).replace(tzinfo=None),  # naive: taken as UTC
    at(5).astimezone(timezone(timedelta(hours=-7))),  # the same instant, written in another zone
])
def test_purge_deletes_exactly_the_older_rows(engine, cutoff):
    add_events(
        engine,
        ("inpaint", "ok", 1, at(1)),
        ("inpaint", "ok", 1, at(5) - timedelta(microseconds=1)),
        ("inpaint", "ok", 1, at(5)),  # at the cutoff: kept
        ("inpaint", "ok", 1, at(5) + timedelta(microseconds=1)),
    )
    assert UsageLog(engine).purge(cutoff) == 2
    assert remaining(engine) == [at(5), at(5) + timedelta(microseconds=1)]
    assert UsageLog(engine).purge(cutoff) == 0


def test_purge_expired_keeps_the_retention_period_and_logs_only_a_count(engine, caplog):
    now = datetime.now(UTC)
    add_events(engine, ("inpaint", "ok", 1, now - timedelta(days=400)), ("upscale", "ok", 1, now - timedelta(days=366)),
               ("inpaint", "ok", 1, now - timedelta(days=364)), ("inpaint", "ok", 1, now))
    with caplog.at_level(logging.INFO, logger="store.usage"):
        assert UsageLog(engine).purge_expired(365) == 2
    assert len(remaining(engine)) == 2
    assert [r.getMessage() for r in caplog.records] == ["purged 2 usage events older than 365 days"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="store.usage"):
        assert UsageLog(engine).purge_expired(365) == 0
    assert caplog.records == []  # nothing purged, nothing said
