"""Load: two app processes sharing one PostgreSQL, 50 API users for 60 s, mixed operations on tiny models.

Side by side in one run: first one client running edits back to back (alternating between the
two processes) sets the baseline; then 50 users, each with its own API key and a process of its
own (25 each, as a load balancer with sticky sessions would spread them), run mixed edits for
60 s. Afterwards the books are checked (every account equals the sum of its entries, no hold
left open), no file is left in either process's upload folder, and each process's memory is
compared with where it stood after warm-up (which includes 15 s of the full load, so batches of
four have been through every model once).

`.venv/bin/python -m bench.load` (BENCH_DATABASE_URL, LOAD_USERS, LOAD_SECONDS to change it).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import sqlalchemy as sa

from bench.common import bench_env, free_port, make_users, photo, serve, stop, table, temp_dir, wait_until_up

USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
BASELINE_SECONDS = 20.0
WARM_UP_SECONDS = 15.0  # everyone at once, so memory is measured from where full batches leave it
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
MIX = [  # (api name, arguments besides the image) in turn
    ("/instruct_edit", {"prompt": "make it snowy", "steps": 2, "seed": 7}),
    ("/restyle", {"prompt": "ink drawing", "strength": 0.6, "steps": 2, "seed": 7}),
    ("/upscale", {"scale": 2}),
    ("/remove_background", {}),
    ("/outpaint", {"directions": ["right"], "amount": 25, "steps": 2, "seed": 7}),
]
BUSY_WORDS = ("queue is full", "busy", "try again")


def fresh_schema() -> tuple[str, str]:
    """(schema, database URL whose search_path is that schema) on the benchmark server."""
    schema = f"bench_load_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://")).begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    return schema, f"{POSTGRES}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    with sa.create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://")).begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.busy = 0

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, exc: Exception) -> None:
        message = str(exc)
        with self.lock:
            if any(word in message.lower() for word in BUSY_WORDS):
                self.busy += 1
            else:
                self.errors[f"{type(exc).__name__}: {message[:80]}"] += 1


def user_loop(url: str, headers: dict[str, str], image: str, until: float, results: Results, offset: int) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False, headers=headers)
    turn = offset
    while time.perf_counter() < until:
        api_name, args = MIX[turn % len(MIX)]
        turn += 1
        started = time.perf_counter()
        try:
            client.predict(handle_file(image), **args, api_name=api_name)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, by kind
            results.failed(exc)
        else:
            results.ok(time.perf_counter() - started)


def everyone(urls: list[str], users: list[dict[str, str]], image: str, seconds: float, results: Results) -> float:
    """All users at once for `seconds`, half on each process; returns the wall time taken."""
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=user_loop, args=(urls[i % 2], headers, image, until, results, i))
               for i, headers in enumerate(users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def baseline(urls: list[str], headers: dict[str, str], image: str) -> float:
    """Edits per second of one client running edits back to back, alternating between the processes."""
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False, download_files=False, headers=headers) for url in urls]
    done, turn = 0, 0
    started = time.perf_counter()
    while time.perf_counter() - started < BASELINE_SECONDS:
        api_name, args = MIX[turn % len(MIX)]
        clients[turn % len(clients)].predict(handle_file(image), **args, api_name=api_name)
        turn += 1
        done += 1
    return done / (time.perf_counter() - started)


def books(database_url: str) -> tuple[int, int, int]:
    """(accounts whose row differs from the sum of their entries, holds still open, accounts)."""
    from store.db import create_engine
    from store.tables import credit_accounts, credit_entries, credit_holds

    engine = create_engine(database_url)
    with engine.connect() as conn:
        sums = {r.user_id: r for r in conn.execute(
            sa.select(credit_entries.c.user_id, sa.func.sum(credit_entries.c.amount).label("amount"),
                      sa.func.sum(credit_entries.c.held).label("held"),
                      sa.func.sum(credit_entries.c.debt).label("debt"))
            .group_by(credit_entries.c.user_id))}
        rows = conn.execute(sa.select(credit_accounts)).all()
        wrong = sum(1 for r in rows if (sums[r.user_id].amount, sums[r.user_id].held, sums[r.user_id].debt)
                    != (r.balance, r.reserved, r.debt))
        open_holds = conn.execute(sa.select(sa.func.count()).select_from(credit_holds)
                                  .where(credit_holds.c.status == "held")).scalar_one()
    engine.dispose()
    return wrong, open_holds, len(rows)


def files_left(upload_base: Path) -> int:
    """Files in the processes' private upload folders (ui/uploads.py), which must be empty at rest."""
    return sum(1 for path in upload_base.rglob("*") if path.is_file())


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> str:
    data = temp_dir("load")
    image = str(photo(data))
    schema, database_url = fresh_schema()
    uploads = data / "uploads"  # each process makes its own folder in here
    env = bench_env(data, DATABASE_URL=database_url, MAX_BATCH_SIZE="4", PRELOAD_OPERATION="instruct_edit",
                    QUEUE_MAX_SIZE="64", GRADIO_TEMP_DIR=str(uploads),
                    MALLOC_ARENA_MAX=os.environ.get("MALLOC_ARENA_MAX", "2"))  # see README: many threads, few arenas
    processes = []
    try:
        ports = [free_port(), free_port()]
        first = serve(["app.py"], env, ports[0])  # migrates the schema and builds the tiny models once
        processes.append(first)
        wait_until_up(f"http://127.0.0.1:{ports[0]}/", process=first)
        second = serve(["app.py"], env, ports[1])
        processes.append(second)
        urls = [f"http://127.0.0.1:{port}/" for port in ports]
        wait_until_up(urls[1], process=second)
        users = make_users(env, USERS + 1)

        from gradio_client import Client, handle_file

        for url in urls:  # warm-up: every operation's model loaded in both processes, first-call costs paid
            client = Client(url, verbose=False, download_files=False, headers=users[-1])
            for _ in range(2):
                for api_name, args in MIX:
                    client.predict(handle_file(image), **args, api_name=api_name)
        one_client = baseline(urls, users[-1], image)
        everyone(urls, users[:USERS], image, WARM_UP_SECONDS, Results())  # full batches once, before measuring
        time.sleep(5)
        memory_before = [rss_mb(p.pid) for p in processes]

        results = Results()
        elapsed = everyone(urls, users[:USERS], image, SECONDS, results)
        time.sleep(5)  # the last responses leave the process; Gradio forgets finished events
        memory_after = [rss_mb(p.pid) for p in processes]
        left = files_left(uploads)
        wrong, open_holds, accounts = books(database_url)
    finally:
        for process in processes:
            stop(process)
        drop_schema(schema)

    done = len(results.latencies)
    throughput = done / elapsed
    calls = done + results.busy + sum(results.errors.values())
    error_rate = sum(results.errors.values()) / calls if calls else 0.0
    rows = [
        ["1 client, back to back", f"{one_client:.2f}", "1.00", "", "", "", ""],
        [f"{USERS} users, {SECONDS:.0f} s", f"{throughput:.2f}", f"{throughput / one_client:.2f}",
         f"{statistics.median(results.latencies):.2f}" if done else "-", f"{percentile(results.latencies, 0.95):.2f}",
         f"{error_rate:.1%}", str(results.busy)],
    ]
    checks = [
        ["accounts equal to the sum of their entries", f"{accounts - wrong}/{accounts}"],
        ["holds left open", str(open_holds)],
        ["files left in the upload folders", str(left)],
        *[[f"process {i + 1} RSS after warm-up -> after load (MB)",
           f"{before:.0f} -> {after:.0f} ({(after - before) / before * 100:+.1f}%)"]
          for i, (before, after) in enumerate(zip(memory_before, memory_after, strict=True))],
    ]
    met = (throughput >= 0.9 * one_client and not results.errors and wrong == 0 and open_holds == 0 and left == 0
           and all(after <= before * 1.1 for before, after in zip(memory_before, memory_after, strict=True)))
    errors = "".join(f"\n  error x{n}: {kind}" for kind, n in results.errors.most_common(5))
    return (f"load: 2 app processes on one PostgreSQL, {USERS} API users x {SECONDS:.0f} s, mixed tiny edits (64x48)\n"
            + table(["load", "edits/s", "x 1 client", "p50 s", "p95 s", "errors", "busy refusals"], rows)
            + "\n" + table(["after the run", "value"], checks) + errors
            + "\ntarget: >= 0.9x one client, no errors but 'busy', books and disk clean, memory within 10% -> "
            + ("met" if met else "NOT met"))


if __name__ == "__main__":
    print(main())
    sys.exit(0)
