"""Shared fixtures: tiny models, both databases, and the whole app served on a free port.

Real parts wherever they can run here: PostgreSQL on 127.0.0.1:5432, headless Chromium. On CI
(CI=true) a missing one fails the run; on a laptop those tests skip and say what is missing.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before anything imports gradio or huggingface_hub:
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="studio-tests-gradio-"))

import pytest
import sqlalchemy as sa

from config import Settings

ON_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def require(available: bool, what: str) -> None:
    """Skip locally when a real part is missing; on CI that is a failure, never a skip."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"{what} is required on CI")
    pytest.skip(f"{what} is not available here")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def settings(tmp_path_factory, tiny_models) -> Settings:
    data = tmp_path_factory.mktemp("data")
    return make_settings(data, tiny_models)


def make_settings(data: Path, tiny_models: Path, **overrides) -> Settings:
    values = dict(
        _env_file=None,
        model_profile="tiny",
        tiny_model_dir=tiny_models,
        data_dir=data,
        gradio_temp_dir=data / "gradio",
        preload_operation="",
        max_batch_size=4,
    )
    values.update(overrides)
    return Settings(**values)


# ------------------------------------------------------------------ databases


def postgres_available() -> bool:
    try:
        with sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://")).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A private schema on the test server, dropped afterwards."""
    require(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studio.db'}"
    return request.getfixturevalue("postgres_schema_url")


# ------------------------------------------------------------------ the app, served


class LiveApp:
    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.studio = app.state.studio


class LogRecorder(logging.Handler):
    """Everything the app logs during the test session, as formatted lines."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session")
def app_logs() -> Iterator[LogRecorder]:
    recorder = LogRecorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    previous = root.level
    root.setLevel(logging.INFO)
    yield recorder
    root.removeHandler(recorder)
    root.setLevel(previous)


@pytest.fixture(scope="session")
def live_app(settings, app_logs) -> Iterator[LiveApp]:
    import uvicorn

    from app import create_app

    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    yield LiveApp(f"http://127.0.0.1:{port}/", app)
    server.should_exit = True
    thread.join(timeout=10)


# ------------------------------------------------------------------ a real browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    require(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-sync",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],  # a test-pattern webcam
    )
    yield browser
    browser.close()
    playwright.stop()
