"""Ledger: charged runs per second on PostgreSQL with 16 concurrent workers, next to a bare UPDATE loop.

Both run the same way in the same process, against one account (the worst case: every worker
fights for one row). A charged run is what the app does for every edit: a hold (conditional
UPDATE + entry + hold row) and a capture (hold transition + entry + UPDATE), two transactions.
The bare loop is one conditional `UPDATE ... WHERE balance >= 1` per spend. Afterwards the books
are checked: every charge is one capture entry, the account equals the sum of its entries.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid

import sqlalchemy as sa

from bench.common import table

WORKERS, SECONDS = 16, 10
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run_workers(work, seconds: float) -> int:
    done = [0] * WORKERS
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            if work(i):
                done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done)


def main() -> str:
    from auth.users import Users
    from billing.ledger import Ledger
    from config import Settings
    from store.crypto import FieldCipher
    from store.db import create_engine, migrate
    from store.tables import credit_accounts, credit_entries

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(
        f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg://')}?options=-csearch_path%3D{schema}",
        pool_size=WORKERS, max_overflow=4,
    )
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE bare (id int primary key, balance bigint not null check (balance >= 0))"
                                 ))
            conn.execute(sa.text("INSERT INTO bare VALUES (1, 1000000000)"))

        def bare(_: int) -> bool:
            with engine.begin() as conn:
                return conn.execute(sa.text("UPDATE bare SET balance = balance - 1 WHERE id = 1 AND balance >= 1"
                                            " RETURNING balance")).first() is not None

        user = Users(engine, FieldCipher.from_settings(Settings(_env_file=None))).create("bench@example.com").id
        ledger = Ledger(engine, signup_credits=10**9, hold_minutes=30)
        ledger.balance(user)

        def charged_run(_: int) -> bool:
            run_id = uuid.uuid4().hex
            ledger.hold(user, run_id, 1)
            return ledger.capture(run_id)

        bare(0), charged_run(0)  # warm the pool
        bare_count = run_workers(bare, SECONDS)
        ledger_count = run_workers(charged_run, SECONDS)

        with engine.connect() as conn:
            account = conn.execute(sa.select(credit_accounts).where(credit_accounts.c.user_id == user)).one()
            e = credit_entries.c
            sums = conn.execute(sa.select(sa.func.sum(e.amount), sa.func.sum(e.held))
                                .where(e.user_id == user)).one()
            captures = conn.execute(sa.select(sa.func.count()).where(e.user_id == user, e.kind == "capture")).scalar()
        charged = 10**9 - account.balance
        lost = max(0, (ledger_count + 1) - charged)
        double = max(0, charged - (ledger_count + 1)) + (captures - (ledger_count + 1))
        books_ok = (sums[0], sums[1]) == (account.balance, account.reserved)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    bare_rate, ledger_rate = bare_count / SECONDS, ledger_count / SECONDS
    rows = [
        ["bare conditional UPDATE (one statement)", f"{bare_rate:.0f}", "1.00"],
        ["charged run: hold + capture (two transactions)", f"{ledger_rate:.0f}", f"{ledger_rate / bare_rate:.2f}"],
    ]
    verdict = "met" if ledger_rate >= bare_rate / 2 and lost == 0 and double == 0 and books_ok else "NOT met"
    return (f"ledger: PostgreSQL, {WORKERS} workers on one account, {SECONDS} s each\n"
            + table(["spend", "per second", "x bare"], rows)
            + f"\nlost charges: {lost}, double charges: {double}, entries sum to the account: {books_ok}"
            + f"\ntarget: at least half the bare rate and 0 lost or double -> {verdict}")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
