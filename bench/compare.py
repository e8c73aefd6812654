"""Replay and Compare: what running a result's recipe again costs over the original run, and what a 4-model
compare costs over the four single runs it replaces.

Runs the app's services in this process on tiny models and times, interleaved so both see the same
machine, the original paid run (the picture parsed as the API parses it) and the replay of its recipe
(the same parsing, plus reading and checking the recipe, and comparing the runs); then the four models
of instruction editing one paid run after another and as one paid compare (one hold, the same service).
Targets: replay overhead at most 5% over the original run; the compare at most 1.1x the four single runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from bench.common import table, temp_dir

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))  # fewer on a busy machine: the medians still pair up
SIZE = (256, 192)
CASES = [  # (operation, its values) for the original run
    ("instruct_edit", {"prompt": "make it snowy", "steps": 4, "seed": 7}),
    ("inpaint", {"prompt": "a red ball", "steps": 4, "seed": 7}),
]
TARGET = 5.0  # % replay overhead at most
COMPARE_TARGET = 1.1  # x the sum of the single runs, at most
COMPARE_ROUNDS = max(3, ROUNDS // 3)  # each round is eight runs


def main() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PIL import Image

    from app import create_app
    from config import Settings
    from pipelines.compare import Sweep, grid
    from pipelines.inputs import InputContext
    from pipelines.recipes import to_json
    from pipelines.registry import OPERATIONS
    from tests import samples

    data = temp_dir("compare")
    settings = Settings(_env_file=None, model_profile="tiny", data_dir=data, preload_operation="")
    studio = create_app(settings).state.studio
    user = studio.accounts.users.create("bench-compare@example.com")
    studio.acceptance.accept(user.id)
    studio.ledger.grant(user.id, 1_000_000, kind="grant", source="operator", unique_key="bench-compare")
    ctx = lambda: InputContext(settings, lambda image: samples.encode(image))  # noqa: E731 - as an upload arrives
    photo = samples.noise(*SIZE, seed=3)
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (64, 48, 160, 144))

    rows = []
    for op_id, values in CASES:
        op = OPERATIONS[op_id]
        pictures = {"image": photo, "mask": mask} if op.masked else {"image": photo}

        def original(op=op, values=values, pictures=pictures):
            return studio.paid_runs.run(op.request_from({**values, **pictures}, ctx()), user.id)

        recipe = to_json(original().recipe)  # warm-up: models loaded, first-call costs paid
        studio.paid_runs.replay(recipe, list(pictures.values()), ctx(), user.id)
        first, again = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            made = original()
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            replayed = studio.paid_runs.replay(recipe, list(pictures.values()), ctx(), user.id)
            again.append(time.perf_counter() - started)
            assert replayed.image.tobytes() == made.image.tobytes(), "a replay must give the same pixels"
        ms_first, ms_again = statistics.median(first) * 1000, statistics.median(again) * 1000
        overhead = (ms_again - ms_first) / ms_first * 100
        rows.append([op_id, "original run", f"{ms_first:.0f}", ""])
        rows.append([op_id, "replay of its recipe", f"{ms_again:.0f}", f"{overhead:+.1f}%"])
    worst = max(float(row[3].rstrip("%")) for row in rows if row[3])

    op = OPERATIONS["instruct_edit"]
    models = op.model_choices(settings)[:4]
    values = dict(CASES[0][1])

    def singles() -> None:
        for model in models:
            studio.paid_runs.run(op.request_from({**values, "image": photo, "model": model}, ctx()), user.id)

    def compared() -> None:
        requests = grid(op, op.request_from({**values, "image": photo}, ctx()), Sweep(models=models))
        assert all(cell.result is not None for cell in studio.paid_runs.compare(requests, user.id).cells)

    singles(), compared()  # warm-up: every model loaded
    one_by_one, at_once = [], []
    for _ in range(COMPARE_ROUNDS):
        for work, times in ((singles, one_by_one), (compared, at_once)):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    ms_singles, ms_compare = statistics.median(one_by_one) * 1000, statistics.median(at_once) * 1000
    ratio = ms_compare / ms_singles
    rows.append(["instruct_edit", f"{len(models)} single runs, one per model", f"{ms_singles:.0f}", ""])
    rows.append(["instruct_edit", f"compare of the {len(models)} models", f"{ms_compare:.0f}", f"{ratio:.2f}x"])
    return (f"compare: medians of interleaved paid runs ({ROUNDS} rounds for replay, {COMPARE_ROUNDS} for "
            f"compare), {SIZE[0]}x{SIZE[1]} photo, tiny models, same pixels checked each replay round\n"
            + table(["operation", "what", "ms", "vs original"], rows)
            + f"\ntarget: replay overhead at most {TARGET:.0f}% -> {'met' if worst <= TARGET else 'NOT met'}"
            + f"\ntarget: compare at most {COMPARE_TARGET}x the single runs -> "
            + ("met" if ratio <= COMPARE_TARGET else "NOT met"))


if __name__ == "__main__":
    print(main())
    sys.exit(0)
