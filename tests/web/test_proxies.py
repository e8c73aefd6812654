"""Behind proxies the caller is the address our own proxies appended, never what the client wrote first."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.conftest import make_settings, serve_in_thread, temp_dir_restored
from web.proxies import ProxyHeaders, parse_trusted

PROXY = ("10.1.2.3", 40000)  # the platform's proxy, as the app's peer


async def echo(scope, receive, send) -> None:
    request = Request(scope)
    await JSONResponse({"client": request.client.host, "scheme": request.url.scheme})(scope, receive, send)


def seen(trusted: str, hops: int, headers: dict, peer: tuple[str, int] = PROXY) -> dict:
    client = TestClient(ProxyHeaders(echo, trusted=trusted, hops=hops), client=peer)
    return client.get("/", headers=headers).json()


@pytest.mark.parametrize(("hops", "forwarded_for", "expected"), [
    (1, "203.0.113.7", "203.0.113.7"),
    (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6; our proxy appended the rest
    (1, "6.6.6.6,5.5.5.5,203.0.113.7", "203.0.113.7"),
    (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # two proxies: the second appended the first
    (2, "203.0.113.7", "203.0.113.7"),  # fewer entries than hops: all were appended by our proxies
    (1, "[2001:db8::7]:443", "2001:db8::7"),
    (1, "203.0.113.7:5555", "203.0.113.7"),
    (1, "6.6.6.6, not-an-address", PROXY[0]),  # garbage where our proxy writes: believe nothing
    (1, "", PROXY[0]),
])
def test_the_caller_is_the_entry_our_proxies_appended(hops, forwarded_for, expected):
    assert seen("*", hops, {"x-forwarded-for": forwarded_for})["client"] == expected


def test_several_forwarded_for_headers_read_as_one_list():
    client = TestClient(ProxyHeaders(echo, trusted="*", hops=1), client=PROXY)
    answer = client.get("/", headers=[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.7")])
    assert answer.json()["client"] == "203.0.113.7"


@pytest.mark.parametrize(("trusted", "hops", "peer"), [
    ("*", 0, PROXY),  # no hops configured: the headers prove nothing (the default)
    ("127.0.0.1", 1, PROXY),  # a peer that is not our proxy
    ("10.9.0.0/16", 1, PROXY),
])
def test_headers_from_anyone_but_a_trusted_proxy_are_ignored(trusted, hops, peer):
    answer = seen(trusted, hops, {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}, peer)
    assert answer == {"client": peer[0], "scheme": "http"}


def test_a_trusted_network_and_the_scheme_our_proxy_wrote():
    answer = seen("10.1.0.0/16, 192.168.0.1", 1, {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"})
    assert answer == {"client": "203.0.113.7", "scheme": "https"}
    assert seen("*", 1, {"x-forwarded-proto": "http, https"})["scheme"] == "https"  # the last hop's word
    assert seen("*", 2, {"x-forwarded-proto": "https, http"})["scheme"] == "https"
    assert seen("*", 1, {"x-forwarded-proto": "gopher"})["scheme"] == "http"


def test_a_mistyped_trusted_proxies_setting_fails_the_start():
    assert parse_trusted("*") is None
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted("127.0.0.1, proxy.example.com")


def test_as_served_a_client_cannot_step_around_the_per_address_limit(monkeypatch, tmp_path, tiny_models):
    """app.main() with TRUSTED_PROXIES=* as on Spaces: one address, two links an hour at most, whatever it writes."""
    import app as studio_app

    settings = make_settings(tmp_path, tiny_models, trusted_proxies="*", trusted_proxy_hops=1,
                             magic_link_per_ip_per_hour=2, magic_link_per_address_per_hour=100)
    served: dict = {}
    monkeypatch.setattr(studio_app, "Settings", lambda: settings)
    monkeypatch.setattr(studio_app, "configure_logging", lambda _settings: None)

    class Recorded:  # main()'s server, kept instead of run: its app and its proxy options are served below
        def __init__(self, config, studio) -> None:
            served["config"] = config

        def run(self) -> None:
            pass

    monkeypatch.setattr(studio_app, "StudioServer", Recorded)
    with temp_dir_restored():
        studio_app.main()
        config = served["config"]
        url, server, thread = serve_in_thread(config.app, proxy_headers=config.proxy_headers,
                                              forwarded_allow_ips=config.forwarded_allow_ips)
        try:
            statuses = [
                httpx.post(f"{url}/auth/email", data={"email": f"visitor{i}@example.com"},
                           headers={"x-forwarded-for": f"198.51.100.{i}, 203.0.113.7"}, timeout=30).status_code
                for i in range(3)
            ]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    assert statuses == [200, 200, 429]
