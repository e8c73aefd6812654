"""Cold start: seconds from process start until `/` answers, and until the first edit completes.

`python app.py` in a fresh process with the default preload. "first start" has no tiny models
on disk yet (they are built on the way); "later start" finds them. Median of three each.
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.common import api_key, bench_env, free_port, photo, serve, stop, table, temp_dir, wait_until_up

RUNS = 3


def one_start(data, image_path: str) -> tuple[float, float]:
    from gradio_client import Client, handle_file

    port = free_port()
    env = bench_env(data)
    headers = api_key(env)  # before the clock starts
    started = time.perf_counter()
    process = serve(["app.py"], env, port)
    try:
        url = f"http://127.0.0.1:{port}/"
        page = wait_until_up(url, process=process)
        Client(url, verbose=False, download_files=False, headers=headers).predict(
            handle_file(image_path), "make it snowy", 2, None, 7, api_name="/instruct_edit"
        )
        return page, time.perf_counter() - started
    finally:
        stop(process)


def main() -> str:
    rows = []
    firsts, laters = [], []
    for _ in range(RUNS):
        data = temp_dir("cold")  # nothing on disk: tiny models are built during this start
        image_path = str(photo(data))
        firsts.append(one_start(data, image_path))
        laters.append(one_start(data, image_path))  # same data folder: models already built
    for name, runs in (("first start (builds tiny models)", firsts), ("later start", laters)):
        page = statistics.median(r[0] for r in runs)
        edit = statistics.median(r[1] for r in runs)
        rows.append([name, f"{page:.1f}", f"{edit:.1f}"])
    page_later = statistics.median(r[0] for r in laters)
    return (f"cold start: median of {RUNS} process starts\n"
            + table(["start", "s until / answers", "s until first edit done"], rows)
            + f"\ntarget: / within 5 s -> {'met' if page_later <= 5 else 'NOT met'} ({page_later:.1f} s)")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
