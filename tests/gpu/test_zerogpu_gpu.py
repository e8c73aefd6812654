"""The ZeroGPU stand-in on a CUDA GPU: every operation's batch runs on the GPU in the forked worker while
the main process never touches CUDA, as on a ZeroGPU Space (tests/gpu/zerogpu_on_cuda.py, in a fresh
process: a pytest process that ran other GPU tests has CUDA set up already, and a fork cannot use it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU: the worker's batches run on it")

ROOT = Path(__file__).resolve().parents[2]


def test_every_operation_runs_on_the_gpu_in_the_standin_worker(tmp_path, tiny_models):
    done = subprocess.run(
        [sys.executable, "-m", "tests.gpu.zerogpu_on_cuda", str(tmp_path), str(tiny_models)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")
