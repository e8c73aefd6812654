"""Overhead: one tiny edit through the full app vs the same pipeline called directly vs a bare gr.Interface.

All three run the same tiny InstructPix2Pix at 64x48, 2 steps, fixed seed. Both servers run in
their own processes and are called with gradio_client; rounds are interleaved so machine noise
hits all three alike.
"""

from __future__ import annotations

import sys

from bench.common import (
    api_key,
    bench_env,
    free_port,
    median_ms,
    photo,
    serve,
    stop,
    table,
    temp_dir,
    timed,
    wait_until_up,
)

ROUNDS, PER_ROUND = 5, 6


def main() -> str:
    import torch
    from diffusers import StableDiffusionInstructPix2PixPipeline
    from gradio_client import Client, handle_file
    from PIL import Image

    from pipelines import tiny

    data = temp_dir("overhead")
    env = bench_env(data, PRELOAD_OPERATION="instruct_edit")
    folder = tiny.ensure("sd-pix2pix", data / "tiny-models")
    image_path = photo(data)
    image = Image.open(image_path).convert("RGB")

    pipe = StableDiffusionInstructPix2PixPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)

    def direct() -> None:
        pipe(prompt="make it snowy", image=image, num_inference_steps=2,
             generator=torch.Generator("cpu").manual_seed(7))

    app_port, bare_port = free_port(), free_port()
    app = serve(["app.py"], env, app_port)
    bare = serve(["bench/bare_interface.py"], env, bare_port)
    try:
        wait_until_up(f"http://127.0.0.1:{app_port}/", process=app)
        wait_until_up(f"http://127.0.0.1:{bare_port}/", process=bare)
        app_client = Client(f"http://127.0.0.1:{app_port}/", verbose=False, download_files=False,
                            headers=api_key(env))
        bare_client = Client(f"http://127.0.0.1:{bare_port}/", verbose=False, download_files=False)

        def full_app() -> None:
            app_client.predict(handle_file(str(image_path)), "make it snowy", 2, None, 7, api_name="/instruct_edit")

        def bare_interface() -> None:
            bare_client.predict(handle_file(str(image_path)), "make it snowy", 2, 7, api_name="/edit")

        for warm in (direct, full_app, bare_interface):
            timed(warm, 3)
        times: dict[str, list[float]] = {"direct": [], "full": [], "bare": []}
        for _ in range(ROUNDS):
            times["direct"] += timed(direct, PER_ROUND)
            times["full"] += timed(full_app, PER_ROUND)
            times["bare"] += timed(bare_interface, PER_ROUND)
    finally:
        stop(app)
        stop(bare)

    direct_ms, full_ms, bare_ms = (median_ms(times[k]) for k in ("direct", "full", "bare"))
    rows = [
        ["pipeline called directly", f"{direct_ms:.0f}", "1.00", f"{direct_ms / bare_ms:.2f}"],
        ["bare gr.Interface (gradio_client)", f"{bare_ms:.0f}", f"{bare_ms / direct_ms:.2f}", "1.00"],
        ["full app (gradio_client, /instruct_edit)", f"{full_ms:.0f}", f"{full_ms / direct_ms:.2f}",
         f"{full_ms / bare_ms:.2f}"],
    ]
    n = ROUNDS * PER_ROUND
    verdict = "met" if full_ms <= 1.1 * bare_ms else "NOT met"
    return (f"overhead: median of {n} tiny edits each (64x48, 2 steps), interleaved\n"
            + table(["path", "median ms", "x direct", "x bare Interface"], rows)
            + f"\ntarget: full app within 10% of the bare gr.Interface -> {verdict}")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
