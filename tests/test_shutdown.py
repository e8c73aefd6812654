"""SIGTERM while a run is going: the process ends within 10 s and the run's hold is given back."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import sqlalchemy as sa
from gradio_client import Client, handle_file

from store.db import create_engine
from store.tables import credit_holds
from tests import samples
from tests.billing.test_crash import manage, start
from tests.conftest import free_port


def test_sigterm_cancels_runs_releases_their_holds_and_exits_promptly(tmp_path, tiny_models):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "TINY_MODEL_DIR": str(tiny_models), "MODEL_PROFILE": "tiny",
           "HF_HUB_OFFLINE": "1", "PRELOAD_OPERATION": "", "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    manage(env, "create-user", "term@example.com")
    key = manage(env, "api-key", "term@example.com").strip().splitlines()[-1]
    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)
    port = free_port()
    process = start(env, port)
    try:
        auth = {"Authorization": f"Bearer {key}"}
        version = httpx.get(f"http://127.0.0.1:{port}/account/policy", timeout=30).json()["version"]
        httpx.post(f"http://127.0.0.1:{port}/account/accept-policy", json={"version": version}, headers=auth,
                   timeout=30).raise_for_status()
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False, headers=auth)
        threading.Thread(  # 150 steps: far longer than the shutdown may take
            target=lambda: client.predict(handle_file(str(photo)), "make it snowy", 150, None, 1,
                                          api_name="/instruct_edit"), daemon=True).start()
        engine = create_engine(f"sqlite:///{tmp_path / 'studio.db'}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(sa.select(credit_holds).where(credit_holds.c.status == "held")).first():
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the run never started")
        time.sleep(1)  # well inside the model's steps
        asked = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        assert time.monotonic() - asked < 10
        with engine.connect() as conn:
            assert conn.execute(sa.select(credit_holds.c.status)).scalars().all() == ["released"]
        assert manage(env, "balance", "term@example.com").strip() == "10"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
