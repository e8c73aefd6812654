"""Helpers the benchmarks share: serving the app in its own process, timing, tables."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        MODEL_PROFILE="tiny",
        DATA_DIR=str(data_dir),
        TINY_MODEL_DIR=str(data_dir / "tiny-models"),
        API_KEY_RUNS_PER_MINUTE="0",  # the benchmarks call as fast as the server answers
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def make_users(env: dict[str, str], count: int) -> list[dict[str, str]]:
    """Accounts in the app's database that accepted the policy, with credits and an API key each.

    Returns the request headers that carry each key. Written directly, as an operator would, so
    benchmarks do not wait for one subprocess per user.
    """
    from auth.accounts import Accounts
    from billing.ledger import Ledger
    from config import Settings
    from policy.acceptance import PolicyAcceptance
    from policy.consents import Consents
    from policy.documents import Documents
    from store.db import create_engine, migrate

    settings = Settings(_env_file=None, data_dir=Path(env["DATA_DIR"]), model_profile="tiny",
                        database_url=env.get("DATABASE_URL") or None)
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine)
    accounts = Accounts(engine, settings)
    ledger = Ledger(engine, signup_credits=settings.signup_credits, hold_minutes=settings.hold_minutes)
    acceptance = PolicyAcceptance(Consents(engine), Documents(settings))
    headers = []
    for _ in range(count):
        user = accounts.users.create(f"bench-{uuid.uuid4().hex[:10]}@example.com")
        acceptance.accept(user.id)
        ledger.grant(user.id, 1_000_000, kind="grant", source="operator", unique_key=f"bench:{user.id}")
        key, _ = accounts.api_keys.create(user.id, "bench")
        headers.append({"Authorization": f"Bearer {key}"})
    engine.dispose()
    return headers


def api_key(env: dict[str, str]) -> dict[str, str]:
    """One benchmark user's headers."""
    return make_users(env, 1)[0]


def serve(script: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    env = dict(env, PORT=str(port))
    return subprocess.Popen(
        [PYTHON, *script], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until_up(url: str, timeout_s: float = 120.0, process: subprocess.Popen | None = None) -> float:
    """Seconds until `url` answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(url)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"studio-bench-{prefix}-"))


def photo(folder: Path, width: int = 64, height: int = 48) -> Path:
    import numpy as np
    from PIL import Image

    path = folder / "photo.png"
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path
