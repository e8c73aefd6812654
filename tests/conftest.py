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
from contextlib import contextmanager
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
SYSTEM_TEMP = Path(tempfile.gettempdir())  # before the app points `tempfile` at its private RAM folder
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def require(available: bool, what: str) -> None:
    """Skip locally when a real part is missing; on CI that is a failure, never a skip."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"{what} is required on CI")
    pytest.skip(f"{what} is not available here (on CI it is required, and its absence fails the run)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def settings(tmp_path_factory, tiny_models, oidc_provider, github, mailbox, creem) -> Settings:
    """The app under test, with Google, Hugging Face, GitHub, SMTP and Creem pointed at servers on loopback."""
    from tests.auth.github_server import CLIENT_ID, CLIENT_SECRET
    from tests.billing import creem_server

    data = tmp_path_factory.mktemp("data")
    return make_settings(
        data, tiny_models,
        google_client_id="studio-google", google_client_secret="studio-google-secret",
        google_discovery_url=f"{oidc_provider}/.well-known/openid-configuration",
        oauth_client_id="studio-hf", oauth_client_secret="studio-hf-secret",  # Hugging Face, as a Space sets them
        openid_provider_url=oidc_provider,
        github_client_id=CLIENT_ID, github_client_secret=CLIENT_SECRET,
        github_authorize_url=f"{github.url}/login/oauth/authorize",
        github_token_url=f"{github.url}/login/oauth/access_token", github_api_url=f"{github.url}/",
        oauth_timeout_s=2.0,
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_tls="none", smtp_from="Studio <studio@example.com>",
        magic_link_per_address_per_hour=5, magic_link_per_ip_per_hour=1000,
        creem_api_key=creem_server.API_KEY, creem_webhook_secret=creem_server.WEBHOOK_SECRET,
        creem_api_url=creem.url, creem_packs=f"{creem_server.PACK}:100", creem_subscriptions=f"{creem_server.PLAN}:300",
    )


def make_settings(data: Path, tiny_models: Path, **overrides) -> Settings:
    values = dict(
        _env_file=None,
        model_profile="tiny",
        tiny_model_dir=tiny_models,
        data_dir=data,
        gradio_temp_dir=data / "gradio",
        preload_operation="",
        max_batch_size=4,
        # Every test's client is 127.0.0.1, across the whole session: the guests' upload quota is tested
        # with its own app (tests/web/test_upload_limits.py) and out of the way everywhere else.
        anonymous_upload_files=1_000_000,
        anonymous_upload_mb=1_000_000,
        api_key_runs_per_minute=0,  # likewise: tests/web/test_api_limits.py has its own app with a limit
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
    # pre-ping: tests/faults restarts the server, which cuts this engine's pooled connection
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), pool_pre_ping=True)
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


@pytest.fixture
def engine(database_url):
    """A migrated database, SQLite or PostgreSQL, emptied again after the test."""
    from store.db import create_engine, migrate
    from store.tables import metadata

    engine = create_engine(database_url)
    migrate(engine)
    yield engine
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


# ------------------------------------------------------------------ servers on loopback


def serve_in_thread(app, **options) -> tuple[str, object, threading.Thread]:
    """Run an ASGI app with uvicorn on a free loopback port; returns (base URL, server, thread).

    As app.main() does, uvicorn leaves X-Forwarded-For alone (web/proxies.py reads it) unless `options` say so.
    """
    import uvicorn

    port = free_port()
    options = {"proxy_headers": False, **options}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def stop_server(server, thread: threading.Thread) -> None:
    """Ask a test server to stop; connections a client left open (Gradio's streams) are cut after 2 s
    instead of holding the test's teardown for its whole graceful timeout."""
    server.should_exit = True
    thread.join(timeout=2)
    if thread.is_alive():
        server.force_exit = True
        thread.join(timeout=10)


class GitHub:
    def __init__(self, url: str, state) -> None:
        self.url, self.state = url, state


@pytest.fixture(scope="session")
def github() -> Iterator[GitHub]:
    from tests.auth.github_server import GitHubState, github_app

    state = GitHubState()
    url, server, thread = serve_in_thread(github_app(state))
    yield GitHub(url, state)
    stop_server(server, thread)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) standing in for Google and for Hugging Face."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


class Creem:
    def __init__(self, url: str, state) -> None:
        self.url, self.state = url, state


@pytest.fixture(scope="session")
def creem() -> Iterator[Creem]:
    """Creem's API, checkout page and webhook sender, as a contract server (tests/billing/creem_server.py)."""
    from tests.billing.creem_server import CreemState, creem_app

    state = CreemState()
    url, server, thread = serve_in_thread(creem_app(state))
    yield Creem(url, state)
    stop_server(server, thread)


class Mailbox:
    """What an SMTP server on loopback (aiosmtpd) received."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def last_to(self, address: str):
        found = [m for m in self.messages if address in m["To"]]
        return found[-1] if found else None


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# ------------------------------------------------------------------ the app, served


class LiveApp:
    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.studio = app.state.studio

    def new_user(self, email: str | None = None, credits: int = 10_000, accepted: bool = True):
        """An account with plenty of credits that has accepted the policy (tests about either make their own)."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        user = self.studio.accounts.users.create(email)
        if accepted:
            self.studio.acceptance.accept(user.id)
        if credits:
            self.studio.ledger.grant(user.id, credits, kind="grant", source="operator",
                                     unique_key=f"test-grant:{uuid.uuid4().hex}")
        return user

    def api_key(self, email: str | None = None) -> str:
        user = self.new_user(email)
        key, _ = self.studio.accounts.api_keys.create(user.id, "tests")
        return key

    def session_cookie(self, email: str | None = None, *, user=None) -> dict:
        """A signed-in browser cookie (for a new user, or the one given), as Playwright's add_cookies wants it."""
        user = user or self.new_user(email)
        token = self.studio.accounts.start_session(user, "pytest")
        host = self.url.split("//", 1)[1].split(":", 1)[0]
        return {"name": self.studio.settings.session_cookie_name, "value": token, "domain": host, "path": "/"}


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


@contextmanager
def temp_dir_restored() -> Iterator[None]:
    """create_app points Gradio's temp folder (GRADIO_TEMP_DIR, tempfile.tempdir) at the new app's own, and
    Gradio checks every uploaded path against it; afterwards both are put back, so the session's live_app
    accepts uploads again."""
    saved_env, saved_tempdir = os.environ.get("GRADIO_TEMP_DIR"), tempfile.tempdir
    try:
        yield
    finally:
        if saved_env is not None:
            os.environ["GRADIO_TEMP_DIR"] = saved_env
        tempfile.tempdir = saved_tempdir


def serve_app(settings: Settings) -> Iterator[LiveApp]:
    """Another app in this process, served while the caller needs it (use with `yield from`)."""
    from app import create_app

    with temp_dir_restored():
        app = create_app(settings)
        url, server, thread = serve_in_thread(app)
        try:
            yield LiveApp(f"{url}/", app)
        finally:
            stop_server(server, thread)


@pytest.fixture(scope="session")
def live_app(settings, app_logs, creem) -> Iterator[LiveApp]:
    from app import create_app

    app = create_app(settings)
    url, server, thread = serve_in_thread(app)
    creem.state.webhook_url = f"{url}/webhooks/creem"
    yield LiveApp(f"{url}/", app)
    stop_server(server, thread)


# ------------------------------------------------------------------ a real browser

CHROMIUM = "/usr/bin/chromium"
CSP_VIOLATIONS: list[str] = []  # what Chromium said about the Content-Security-Policy, in any tab of any test


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
    new_context = browser.new_context

    def watched_context(**options):
        """Every context reports what the Content-Security-Policy refused (no_csp_violations checks)."""
        context = new_context(**options)
        context.on("console", lambda message: CSP_VIOLATIONS.append(f"{message.page and message.page.url}: "
                                                                    f"{message.text}")
                   if "Content Security Policy" in message.text else None)
        return context

    browser.new_context = watched_context
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(autouse=True)
def no_csp_violations(request) -> Iterator[None]:
    """Every flow a test drives in Chromium runs under the app's Content-Security-Policy without one refusal."""
    CSP_VIOLATIONS.clear()
    yield
    if "browser" in request.fixturenames:
        found, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
        assert not found, f"the Content-Security-Policy refused: {found}"


def watched_page(browser, **context_options) -> Iterator:
    """A fresh browser tab in its own context; any uncaught error in the page fails the test."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def page(browser):
    yield from watched_page(browser, accept_downloads=True)
