"""Cookie flags and redirect URIs follow the deployment: PUBLIC_URL, SameSite, the Spaces iframe."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from auth.accounts import Accounts
from auth.mailer import Mailer
from auth.routes import auth_router
from config import Settings
from store.db import create_engine, migrate


class Outbox(Mailer):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.texts: list[str] = []

    def send(self, to: str, subject: str, text: str, *, console_line: str) -> None:
        self.texts.append(text)


def auth_app(tmp_path, **overrides) -> tuple[TestClient, Outbox]:
    settings = Settings(_env_file=None, data_dir=tmp_path, github_client_id="id", github_client_secret="s",
                        **overrides)
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine)
    outbox = Outbox(settings)
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="k", session_cookie="studio_oauth", path="/auth")
    app.include_router(auth_router(Accounts(engine, settings, outbox)))
    return TestClient(app, base_url="http://testserver", follow_redirects=False), outbox


def sign_in_by_link(client: TestClient, outbox: Outbox) -> str:
    assert client.post("/auth/email", data={"email": "cookie@example.com"}).status_code == 200
    token = parse_qs(urlparse(re.search(r"http\S+", outbox.texts[-1]).group(0)).query)["token"][0]
    answer = client.post("/auth/magic", data={"token": token})
    assert answer.status_code == 303
    return answer.headers["set-cookie"]


def test_local_development_cookie(tmp_path):
    client, outbox = auth_app(tmp_path)
    cookie = sign_in_by_link(client, outbox)
    assert cookie.startswith("studio_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie and "Partitioned" not in cookie


def test_https_public_url_makes_cookies_secure_and_builds_the_urls(tmp_path):
    client, outbox = auth_app(tmp_path, public_url="https://studio.example.com/")
    cookie = sign_in_by_link(client, outbox)
    assert "Secure" in cookie and "SameSite=lax" in cookie
    assert "https://studio.example.com/auth/magic?token=" in outbox.texts[-1]
    start = client.get("/auth/login/github")
    redirect_uri = parse_qs(urlparse(start.headers["location"]).query)["redirect_uri"][0]
    assert redirect_uri == "https://studio.example.com/auth/callback/github"


def test_the_spaces_iframe_option(tmp_path):
    client, outbox = auth_app(tmp_path, public_url="https://me-studio.hf.space", cookie_samesite="none")
    cookie = sign_in_by_link(client, outbox)
    assert "SameSite=none" in cookie and "Secure" in cookie and "Partitioned" in cookie


def test_every_sign_in_gets_a_new_session(tmp_path):
    client, outbox = auth_app(tmp_path)
    first = sign_in_by_link(client, outbox)
    second = sign_in_by_link(client, outbox)
    assert first.split(";")[0] != second.split(";")[0]


def test_production_without_smtp_says_email_is_not_set_up(tmp_path):
    from tests.test_config import PRODUCTION

    settings = Settings(_env_file=None, data_dir=tmp_path, **PRODUCTION)
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine)
    app = FastAPI()
    app.include_router(auth_router(Accounts(engine, settings)))
    answer = TestClient(app).post("/auth/email", data={"email": "a@example.com"})
    assert answer.status_code == 503 and "not set up" in answer.json()["message"]


@pytest.mark.parametrize(("agent", "device"), [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
     "Chrome on Linux"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17 Safari/605.1",
     "Safari on macOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
    ("python-httpx/0.28.1", "Python client"),
    (None, "a browser"),
])
def test_sessions_are_listed_by_device_without_ip_addresses(agent, device):
    from auth.accounts import describe_device

    assert describe_device(agent) == device


def test_without_smtp_in_development_the_link_is_printed(tmp_path, capsys):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    Mailer(settings).send("a@example.com", "subject", "body", console_line="sign-in link: http://x/auth/magic?token=t")
    assert "sign-in link: http://x/auth/magic?token=t" in capsys.readouterr().out


def test_an_smtp_server_that_is_down_gets_a_clear_answer(tmp_path):
    from tests.conftest import free_port

    settings = Settings(_env_file=None, data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(),
                        smtp_tls="none")
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine)
    app = FastAPI()
    accounts = Accounts(engine, settings)
    app.include_router(auth_router(accounts))
    answer = TestClient(app).post("/auth/email", data={"email": "down@example.com"})
    assert answer.status_code == 503 and "could not send" in answer.json()["message"]
    assert accounts.users.by_email("down@example.com") is None  # no account change


def test_in_the_spaces_iframe_signing_out_expires_the_partitioned_cookie(tmp_path):
    """A deletion without Partitioned misses a partitioned cookie: the browser would keep the revoked one."""
    client, outbox = auth_app(tmp_path, public_url="https://me-studio.hf.space", cookie_samesite="none")
    for path in ("/auth/logout", "/auth/logout-all"):
        token = sign_in_by_link(client, outbox).split(";")[0].split("=", 1)[1]
        client.cookies.set("studio_session", token)
        deletion = client.post(path).headers["set-cookie"]
        assert deletion.startswith('studio_session=""') and "Max-Age=0" in deletion, path
        assert "Partitioned" in deletion and "Secure" in deletion and "SameSite=none" in deletion, path
