"""Signing in with Hugging Face, as a Space with `hf_oauth: true` sets it up: OAUTH_CLIENT_ID,
OAUTH_CLIENT_SECRET, OAUTH_SCOPES and OPENID_PROVIDER_URL, against a real OpenID Connect provider on
loopback (oidc-provider-mock); the same refusals as Google's, and a provider that cannot be used at
start hides its button while the app starts anyway.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from auth.providers import configured_providers
from store.tables import users
from tests.auth.test_sign_in import assert_refused, follow_magic_link, session_count, signed_in_user
from tests.conftest import free_port, make_settings, serve_app, serve_in_thread, stop_server


@pytest.fixture
def browser_like(live_app):
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as client:
        yield client


def huggingface_consent(oidc_provider: str, client: httpx.Client, sub: str, claims: dict, *,
                        next_path: str = "/", deny: bool = False) -> str:
    """Start at /auth/login/huggingface, consent at the provider; returns the callback URL it sends back."""
    httpx.put(f"{oidc_provider}/users/{sub}", json=claims).raise_for_status()
    start = client.get(f"/auth/login/huggingface?{urlencode({'next': next_path})}")
    assert start.status_code in (302, 303, 307), start.text
    authorize = start.headers["location"]
    assert authorize.startswith(oidc_provider)
    scopes = parse_qs(urlparse(authorize).query)["scope"][0].split()
    assert {"openid", "profile", "email"} <= set(scopes)
    consent = httpx.post(authorize, data={"action": "deny"} if deny else {"sub": sub}, follow_redirects=False)
    assert consent.status_code in (302, 303)
    callback = consent.headers["location"]
    assert urlparse(callback).path == "/auth/callback/huggingface"
    return callback


def user_count(live_app) -> int:
    with live_app.studio.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()


def test_the_page_offers_hugging_face_first(live_app):
    page = httpx.get(live_app.url, timeout=30).text
    assert "/auth/login/huggingface" in page
    assert page.index("/auth/login/huggingface") < page.index("/auth/login/google")
    assert live_app.studio.accounts.providers[0] == "huggingface"


def test_hugging_face_sign_in_end_to_end_keeps_only_the_address_and_name(live_app, oidc_provider, browser_like):
    callback = huggingface_consent(oidc_provider, browser_like, "hf-ada", {
        "email": "Ada.HF@Example.com", "email_verified": True, "name": "Ada Lovelace",
        "preferred_username": "ada", "picture": "https://example.com/ada.png", "profile": "https://hf.co/ada",
    }, next_path="/?from=hf")
    landed = browser_like.get(callback)
    assert landed.status_code == 303 and landed.headers["location"] == "/?from=hf"
    user = signed_in_user(live_app, browser_like)
    assert (user.email, user.name) == ("ada.hf@example.com", "Ada Lovelace")
    assert ("huggingface", "hf-ada") in live_app.studio.accounts.users.identities_of(user.id)


def test_a_name_missing_from_the_claims_falls_back_to_the_username(live_app, oidc_provider, browser_like):
    browser_like.get(huggingface_consent(oidc_provider, browser_like, "hf-nameless", {
        "email": "nameless.hf@example.com", "email_verified": True, "preferred_username": "nameless"}))
    assert signed_in_user(live_app, browser_like).name == "nameless"


def test_a_verified_address_joins_the_account_it_already_has(live_app, oidc_provider, mailbox):
    address = "both.ways@example.com"
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as by_link:
        follow_magic_link(by_link, mailbox, address)
        first = signed_in_user(live_app, by_link).id
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as by_hf:
        by_hf.get(huggingface_consent(oidc_provider, by_hf, "hf-both", {"email": address, "email_verified": True}))
        assert signed_in_user(live_app, by_hf).id == first


def test_an_unverified_address_is_refused_and_makes_no_account(live_app, oidc_provider, browser_like):
    sessions, people = session_count(live_app), user_count(live_app)
    callback = huggingface_consent(oidc_provider, browser_like, "hf-unverified", {
        "email": "unverified.hf@example.com", "email_verified": False})
    assert_refused(live_app, browser_like.get(callback), sessions, "Your Hugging Face e-mail address is not verified")
    assert user_count(live_app) == people


def test_no_address_at_all_is_refused(live_app, oidc_provider, browser_like):
    sessions = session_count(live_app)
    callback = huggingface_consent(oidc_provider, browser_like, "hf-no-email", {"name": "No Mail"})
    assert_refused(live_app, browser_like.get(callback), sessions, "Hugging Face did not share an e-mail address")


def test_tampered_and_replayed_state_and_code_are_refused(live_app, oidc_provider, browser_like):
    claims = {"email": "replay.hf@example.com", "email_verified": True}
    callback = huggingface_consent(oidc_provider, browser_like, "hf-replay", claims)
    state = parse_qs(urlparse(callback).query)["state"][0]
    before = session_count(live_app)
    assert_refused(live_app, browser_like.get(callback.replace(state, "forged")), before, "could not be completed")

    callback = huggingface_consent(oidc_provider, browser_like, "hf-replay", claims)
    assert browser_like.get(callback).status_code == 303
    after = session_count(live_app)
    browser_like.cookies.clear()
    assert_refused(live_app, browser_like.get(callback), after, "could not be completed")


def test_declining_at_hugging_face_is_explained(live_app, oidc_provider, browser_like):
    before = session_count(live_app)
    callback = huggingface_consent(oidc_provider, browser_like, "hf-decline", {"email": "d@example.com"}, deny=True)
    assert_refused(live_app, browser_like.get(callback), before, "You cancelled the sign-in with Hugging Face")


# ------------------------------------------------------------------ a provider that cannot be used


def discovery_server(document: dict) -> tuple[str, object, object]:
    async def discovery(_request):
        return JSONResponse(document)

    app = Starlette(routes=[Route("/.well-known/openid-configuration", discovery)])
    return serve_in_thread(app)


def test_a_provider_that_goes_down_after_start_is_explained(tmp_path, tiny_models, oidc_provider):
    """Discovery answered at start; then the token endpoint is gone: the sign-in says so, nobody is signed in."""
    mock = httpx.get(f"{oidc_provider}/.well-known/openid-configuration").json()
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    url, server, thread = discovery_server({**mock, "token_endpoint": f"{down}/oauth/token"})
    try:
        settings = make_settings(tmp_path, tiny_models, oauth_client_id="studio-hf", oauth_client_secret="s",
                                 openid_provider_url=url, oauth_timeout_s=2.0)
        for app in serve_app(settings):
            with httpx.Client(base_url=app.url.rstrip("/"), follow_redirects=False, timeout=30) as client:
                httpx.put(f"{oidc_provider}/users/hf-down", json={"email": "down@example.com",
                                                                  "email_verified": True}).raise_for_status()
                authorize = client.get("/auth/login/huggingface").headers["location"]
                callback = httpx.post(authorize, data={"sub": "hf-down"}, follow_redirects=False).headers["location"]
                answer = client.get(callback)
                assert answer.status_code == 400 and "Hugging Face could not be reached" in answer.text
                assert "studio_session" not in answer.headers.get("set-cookie", "")
    finally:
        stop_server(server, thread)


@pytest.mark.parametrize("problem", ["unreachable", "not json", "missing endpoints"])
def test_a_provider_unusable_at_start_hides_its_button_and_the_app_starts(tmp_path, tiny_models, caplog, problem):
    if problem == "unreachable":
        url, server, thread = f"http://127.0.0.1:{free_port()}", None, None
    else:
        document = {"issuer": "x"} if problem == "missing endpoints" else ["not", "a", "document"]
        url, server, thread = discovery_server(document)
    try:
        settings = make_settings(tmp_path, tiny_models, oauth_client_id="studio-hf", oauth_client_secret="s",
                                 openid_provider_url=url, oauth_timeout_s=2.0)
        with caplog.at_level(logging.WARNING, logger="auth.providers"):
            assert "huggingface" not in configured_providers(settings)
        assert "Hugging Face sign-in is off" in caplog.text
        if problem == "missing endpoints":
            assert "authorization_endpoint" in caplog.text
        for app in serve_app(settings):
            page = httpx.get(app.url, timeout=30)
            assert page.status_code == 200 and "/auth/login/huggingface" not in page.text
            refused = httpx.get(f"{app.url}auth/login/huggingface", timeout=30)
            assert refused.status_code == 404 and "not set up" in refused.text
    finally:
        if server is not None:
            stop_server(server, thread)
