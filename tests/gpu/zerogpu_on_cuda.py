"""The ZeroGPU stand-in on a CUDA GPU, run as its own process by tests/gpu/test_zerogpu_gpu.py.

As on ZeroGPU, this process never touches CUDA: the models load on the CPU here, and the stand-in's worker,
forked for each GPU call, moves them onto the GPU before the call (what the real package's patched torch
does), runs the batch there and pickles the pictures back. Prints one line per operation, then "ok".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(data: Path, tiny_models: Path, device: str = "cuda") -> None:
    os.environ["SPACES_ZERO_GPU"] = "1"
    from tests.pipelines import zerogpu_standin

    sys.modules["spaces"] = zerogpu_standin
    import torch

    from pipelines import zerogpu
    from pipelines.base import EditRequest
    from pipelines.batcher import DeviceQueue
    from pipelines.models import ModelManager
    from pipelines.registry import OPERATIONS
    from pipelines.service import EditService
    from tests.conftest import make_settings

    def onto_the_gpu() -> None:
        for entry in list(zerogpu._models._entries.values()):
            entry.device = device
            pipe = entry.pipe
            if hasattr(pipe, "to"):
                pipe.to(device)
            elif hasattr(pipe, "model"):
                pipe.model.to(device)

    zerogpu_standin.WORKER_START = onto_the_gpu
    settings = make_settings(data, tiny_models, device="cpu")  # this process stays off CUDA
    models = ModelManager(settings)
    service = EditService(settings, models, DeviceQueue(2), usage=None,
                          device_work=zerogpu.attach(models, settings.zero_gpu_duration_s))
    from PIL import Image

    for op in OPERATIONS.values():
        picture = Image.new("RGB", (64, 48), (90, 120, 150))
        values = dict(op.examples)
        if op.masked:
            mask = Image.new("L", picture.size, 0)
            mask.paste(255, (16, 12, 40, 30))
            values["mask"] = mask
        result = service.run(EditRequest(op.id, picture, **values))
        assert result.image.size == op.output_size(EditRequest(op.id, picture, **values)), op.id
        print(op.id, result.image.size)
    assert not torch.cuda.is_initialized(), "the main process touched CUDA"
    print("ok")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:])  # a third argument, "cpu": this script checked anywhere
