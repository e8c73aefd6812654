"""Compare: a 4-model compare on tiny stand-ins vs the four single runs it replaces, full app, same machine.

One app process, called with gradio_client: each round runs the four models one after another through
/instruct_edit, then once through /compare (one hold, the cells through the same service); rounds are
interleaved so machine noise hits both alike. Target: the compare takes no more than 1.1× the sum of the
four single runs.
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.common import api_key, bench_env, free_port, photo, serve, stop, table, temp_dir, wait_until_up

ROUNDS = 3
MODELS = ["timbrooks/instruct-pix2pix", "black-forest-labs/FLUX.1-Kontext-dev", "Qwen/Qwen-Image-Edit",
          "black-forest-labs/FLUX.2-klein-4B"]
PROMPT, STEPS, SEED = "make it snowy", 2, 7


def main() -> str:
    from gradio_client import Client, handle_file

    data = temp_dir("compare")
    env = bench_env(data, PRELOAD_OPERATION="instruct_edit", ALLOW_NONCOMMERCIAL_MODELS="1")
    image_path = str(photo(data))
    port = free_port()
    process = serve(["app.py"], env, port)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, timeout_s=600, process=process)  # a busy machine starts it slowly
        client = Client(url, verbose=False, download_files=False, headers=api_key(env))

        def singles() -> float:
            began = time.perf_counter()
            for model in MODELS:
                client.predict(handle_file(image_path), PROMPT, STEPS, None, SEED, model, api_name="/instruct_edit")
            return time.perf_counter() - began

        def compare() -> float:
            began = time.perf_counter()
            _, grid, _ = client.predict(handle_file(image_path), PROMPT, MODELS, [STEPS], [], [SEED],
                                        "instruct_edit", None, api_name="/compare")
            assert all(cell["error"] is None for cell in grid["cells"]), grid["cells"]
            return time.perf_counter() - began

        singles(), compare()  # warm-up: every model loaded, first-call costs paid
        single_s, compare_s = [], []
        for _ in range(ROUNDS):
            single_s.append(singles())
            compare_s.append(compare())
    finally:
        stop(process)
    one, many = statistics.median(single_s), statistics.median(compare_s)
    rows = [["4 single runs, one after another", f"{one:.2f}", "1.00"],
            ["compare of the 4 models (one call)", f"{many:.2f}", f"{many / one:.2f}"]]
    return (f"compare: tiny instruct_edit 64x48, {STEPS} steps, 4 models, median of {ROUNDS} rounds\n"
            + table(["what", "seconds", "x singles"], rows)
            + f"\ntarget: compare <= 1.1x the four singles -> {'met' if many <= 1.1 * one else 'NOT met'}")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
