"""Batching: 8 simultaneous edits with batching on (MAX_BATCH_SIZE=8) vs off (1), full app, same machine.

Each setting runs in its own app process; 8 gradio_client callers fire at once; throughput is
edits per second of wall time for the whole burst, median of several bursts.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

from bench.common import api_key, bench_env, free_port, photo, serve, stop, table, temp_dir, wait_until_up

CALLERS, BURSTS = 8, 5


def burst_throughput(url: str, image_path: str, headers: dict[str, str]) -> float:
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False, download_files=False, headers=headers) for _ in range(CALLERS)]
    start = threading.Barrier(CALLERS + 1)
    errors: list[Exception] = []

    def call(client) -> None:
        start.wait()
        try:
            client.predict(handle_file(image_path), "make it snowy", 2, None, 7, api_name="/instruct_edit")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return CALLERS / elapsed


def measure(batch_size: int, data, image_path: str) -> float:
    port = free_port()
    env = bench_env(data, MAX_BATCH_SIZE=str(batch_size), PRELOAD_OPERATION="instruct_edit")
    headers = api_key(env)
    process = serve(["app.py"], env, port)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, process=process)
        burst_throughput(url, image_path, headers)  # warm-up: model loaded, first-call costs paid
        return statistics.median(burst_throughput(url, image_path, headers) for _ in range(BURSTS))
    finally:
        stop(process)


def main() -> str:
    data = temp_dir("batching")
    image_path = str(photo(data))
    off = measure(1, data, image_path)
    on = measure(8, data, image_path)
    rows = [["off (MAX_BATCH_SIZE=1)", f"{off:.2f}", "1.00"], ["on (MAX_BATCH_SIZE=8)", f"{on:.2f}", f"{on / off:.2f}"]]
    return (f"batching: {CALLERS} simultaneous tiny instruct_edit calls (64x48, 2 steps), median of {BURSTS} bursts\n"
            + table(["batching", "edits/s", "x off"], rows)
            + f"\ntarget: on >= 1.3x off -> {'met' if on >= 1.3 * off else 'NOT met'}")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
