"""Policy: "kryptering ... under överföring" - behind HTTPS, HSTS and Secure cookies; never downgraded."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from policy.transport import TransportSecurity
from tests.auth.test_cookies import auth_app, sign_in_by_link


def tiny_app(https: bool) -> TestClient:
    app = FastAPI()
    app.add_middleware(TransportSecurity, https=https)
    app.get("/")(lambda: PlainTextResponse("ok"))
    return TestClient(app)


def test_https_deployments_send_hsts_and_secure_cookies(tmp_path):
    answer = tiny_app(https=True).get("/")
    assert answer.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    client, outbox = auth_app(tmp_path, public_url="https://studio.example.com")
    assert "Secure" in sign_in_by_link(client, outbox)


def test_plain_http_development_sends_no_hsts(tmp_path):
    assert "strict-transport-security" not in tiny_app(https=False).get("/").headers


def test_the_served_app_passes_through_the_transport_middleware(live_app):
    answer = httpx.get(live_app.url, timeout=30)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in answer.headers  # served over http here
