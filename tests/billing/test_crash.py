"""A process killed in the middle of a run: its hold is released by the sweeper when the app starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from gradio_client import Client, handle_file

from store.db import create_engine
from store.tables import credit_holds
from tests import samples
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**env, "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the app did not start")


def manage(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def test_a_killed_runs_hold_is_released_on_restart(tmp_path, tiny_models):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "TINY_MODEL_DIR": str(tiny_models), "MODEL_PROFILE": "tiny",
           "HF_HUB_OFFLINE": "1", "PRELOAD_OPERATION": "", "RUN_TIMEOUT_S": "3", "HOLD_MINUTES": "0.06",
           "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    manage(env, "create-user", "crash@example.com")
    key = manage(env, "api-key", "crash@example.com").strip().splitlines()[-1]
    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)

    port = free_port()
    process = start(env, port)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False,
                    headers={"Authorization": f"Bearer {key}"})
    auth = {"Authorization": f"Bearer {key}"}  # a researcher accepts the policy over HTTP, once
    version = httpx.get(f"http://127.0.0.1:{port}/account/policy", timeout=30).json()["version"]
    assert httpx.post(f"http://127.0.0.1:{port}/account/accept-policy", json={"version": version}, headers=auth,
                      timeout=30).status_code == 200
    threading.Thread(  # a long run (150 steps); the process dies in the middle of it
        target=lambda: client.predict(handle_file(str(photo)), "make it snowy", 150, None, 1,
                                      api_name="/instruct_edit"), daemon=True).start()
    engine = create_engine(f"sqlite:///{tmp_path / 'studio.db'}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(sa.select(credit_holds).where(credit_holds.c.status == "held")).first():
                break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert manage(env, "balance", "crash@example.com").strip() == "6"  # 4 credits still held

    time.sleep(4)  # past the hold's expiry (HOLD_MINUTES)
    restarted = start(env, free_port())
    try:
        deadline = time.monotonic() + 20
        while manage(env, "balance", "crash@example.com").strip() != "10" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert manage(env, "balance", "crash@example.com").strip() == "10"
        with engine.connect() as conn:
            assert conn.execute(sa.select(credit_holds.c.status)).scalars().all() == ["released"]
    finally:
        os.killpg(restarted.pid, signal.SIGKILL)
        restarted.wait()
