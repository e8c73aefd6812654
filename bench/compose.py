"""Compose against instruction editing: on the CPU with the demo (tiny) weights, at the same photo size.

The target (issue 14): a tiny `compose` stays within 1.2× the time of a tiny `instruct_edit` at the same
size. Both run FLUX.2 [klein] here (instruct_edit with model= the klein id), so the ratio is compose's own
cost: decoding and fitting the extra pictures and the longer list of references. InstructPix2Pix,
instruct_edit's default, is shown for scale.

Each row is a whole edit as the API runs it after the upload: the PNG bytes decoded (`request_from`), then
checked, prepared, run and finished (`EditService.run`), in this process. The first call of each row loads
its model; then ROUNDS rounds in which every row runs once (interleaved, so drift hits all rows alike), and
the median per row, of the wall time and of the process's CPU time (which other work on a shared machine
inflates less).

    .venv/bin/python -m bench.compose            # 800×600, 7 rounds
    .venv/bin/python -m bench.compose --quick    # 96×64, 1 round: that it runs, not what it measures
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import table, temp_dir

KLEIN = "black-forest-labs/FLUX.2-klein-4B"
TARGET = 1.2
BASELINE = "instruct_edit · FLUX.2 [klein]"
FULL, QUICK = ((800, 600), 7), ((96, 64), 1)
WORDS = {"prompt": "put the pattern from picture 2 on picture 1", "steps": 2, "seed": 7}


def pictures(size: tuple[int, int]) -> list[bytes]:
    """The photo, and three others of other shapes and modes (a portrait, a grey one, a small transparent one)."""
    import numpy as np
    from PIL import Image

    width, height = size
    rng = np.random.default_rng(0)
    made = [
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)),
        Image.fromarray(rng.integers(0, 256, (width, height, 3), dtype=np.uint8)),
        Image.fromarray(rng.integers(0, 256, (height, height), dtype=np.uint8), "L"),
        Image.fromarray(rng.integers(0, 256, (height // 2, width // 2, 4), dtype=np.uint8), "RGBA"),
    ]
    encoded = []
    for picture in made:
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return encoded


def main(argv: list[str] | None = None, tiny_models: Path | None = None) -> str:
    from config import Settings
    from pipelines.batcher import DeviceQueue
    from pipelines.inputs import InputContext
    from pipelines.models import ModelManager
    from pipelines.registry import OPERATIONS
    from pipelines.service import EditService

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    size, rounds = QUICK if quick else FULL
    data = temp_dir("compose")
    settings = Settings(_env_file=None, model_profile="tiny", data_dir=data,
                        tiny_model_dir=tiny_models or data / "tiny-models", preload_operation="")
    service = EditService(settings, ModelManager(settings), DeviceQueue(1), None)
    files = pictures(size)

    def edit(op_id: str, raw: dict) -> Callable[[], object]:
        op = OPERATIONS[op_id]
        # the API's read_upload hands over an upload's bytes; here they are the bytes already
        return lambda: service.run(op.request_from({**WORDS, **raw}, InputContext(settings, lambda data: data)))

    rows: dict[str, tuple[int, Callable[[], object]]] = {
        BASELINE: (1, edit("instruct_edit", {"image": files[0], "model": KLEIN})),
        "instruct_edit · InstructPix2Pix (its default)": (1, edit("instruct_edit", {"image": files[0]})),
        **{f"compose · FLUX.2 [klein] · {count}": (count, edit("compose", {"images": files[:count]}))
           for count in (1, 2, 4)},
    }
    for _count, run in rows.values():
        run()  # loads its model
    wall: dict[str, list[float]] = {name: [] for name in rows}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, (_count, run) in rows.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    medians = {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in rows}
    base_wall, base_cpu = medians[BASELINE]
    lines = []
    for name, (count, _run) in rows.items():
        spent_wall, spent_cpu = medians[name]
        ratio_wall, ratio_cpu = spent_wall / base_wall, spent_cpu / base_cpu
        verdict = ("met" if ratio_wall <= TARGET else "NOT met") if name.startswith("compose") else "—"
        lines.append([name.rsplit(" · ", 1)[0] if name.startswith("compose") else name, count,
                      f"{spent_wall:.3f}", f"{ratio_wall:.2f}", f"{spent_cpu:.3f}", f"{ratio_cpu:.2f}", verdict])
    return table([f"tiny edit at {size[0]}×{size[1]}, CPU", "pictures", f"wall s, median of {rounds}", "× klein edit",
                  "CPU s", "× klein edit (CPU)", f"wall ≤ {TARGET:g}×"], lines)


if __name__ == "__main__":
    print(main())
    sys.exit(0)
