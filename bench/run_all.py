"""Every benchmark, one after another, each printing its table: `.venv/bin/python -m bench.run_all`."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench import batching, cold_start, compare, compose, demo_speed, hostile, ledger, load, memory, overhead, select

if __name__ == "__main__":
    for bench in (overhead, batching, cold_start, demo_speed, compose, select, compare, hostile, memory, ledger, load):
        print(bench.main(), end="\n\n", flush=True)
    sys.exit(0)
