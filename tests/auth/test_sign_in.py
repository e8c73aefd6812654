"""Signing in end to end, through the app's real routes and cookies.

Google: a real OpenID Connect provider on loopback (oidc-provider-mock). GitHub: a loopback
server speaking GitHub's documented OAuth and API payloads. Magic links: a real SMTP server
on loopback (aiosmtpd).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import sqlalchemy as sa

from auth.tokens import hash_token, normalize_email
from store.tables import auth_sessions, magic_links

COOKIE = "studio_session"


@pytest.fixture
def browser_like(live_app):
    """An HTTP client that keeps cookies and does not follow redirects, like a careful browser."""
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as client:
        yield client


def session_count(live_app) -> int:
    with live_app.studio.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(auth_sessions)).scalar_one()


def signed_in_user(live_app, client: httpx.Client):
    session = live_app.studio.accounts.sessions.resolve(client.cookies.get(COOKIE))
    return live_app.studio.accounts.users.get(session.user_id) if session else None


def assert_refused(live_app, answer: httpx.Response, sessions_before: int, text: str) -> None:
    assert answer.status_code in (400, 401, 404, 502), answer.status_code
    assert text in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert session_count(live_app) == sessions_before


# ------------------------------------------------------------------ Google (OpenID Connect)


def google_consent(oidc_provider: str, client: httpx.Client, sub: str, claims: dict, *, deny: bool = False,
                   next_path: str = "/") -> str:
    """Start at the app, consent at the provider; returns the callback URL the provider sends back."""
    httpx.put(f"{oidc_provider}/users/{sub}", json=claims).raise_for_status()
    start = client.get(f"/auth/login/google?{urlencode({'next': next_path})}")
    assert start.status_code in (302, 303, 307)
    authorize = start.headers["location"]
    assert authorize.startswith(oidc_provider)
    form = {"action": "deny"} if deny else {"sub": sub}
    consent = httpx.post(authorize, data=form, follow_redirects=False)
    assert consent.status_code in (302, 303)
    return consent.headers["location"]


def test_google_sign_in_end_to_end(live_app, oidc_provider, browser_like):
    callback = google_consent(oidc_provider, browser_like, "g-alice", {
        "email": "Alice.Google@Example.com", "email_verified": True, "name": "Alice"}, next_path="/?from=google")
    landed = browser_like.get(callback)
    assert landed.status_code == 303 and landed.headers["location"] == "/?from=google"
    cookie = landed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    user = signed_in_user(live_app, browser_like)
    assert user.email == "alice.google@example.com" and user.name == "Alice"
    config = browser_like.get("/config").json()
    assert config["username"] == f"user:{user.id}"


BOB = {"email": "bob@example.com", "email_verified": True}


def test_tampered_missing_and_replayed_state_and_code_are_refused(live_app, oidc_provider, browser_like):
    callback = google_consent(oidc_provider, browser_like, "g-bob", BOB)
    query = parse_qs(urlparse(callback).query)
    before = session_count(live_app)
    tampered = callback.replace(query["state"][0], "forged-state")
    assert_refused(live_app, browser_like.get(tampered), before, "could not be completed")
    missing = callback.split("?")[0] + "?" + urlencode({"code": query["code"][0]})
    assert_refused(live_app, browser_like.get(missing), before, "could not be completed")

    # a fresh sign-in succeeds once ...
    callback = google_consent(oidc_provider, browser_like, "g-bob", BOB)
    assert browser_like.get(callback).status_code == 303
    after = session_count(live_app)
    # ... and the same callback again (a replayed code) does not
    browser_like.cookies.clear()
    assert_refused(live_app, browser_like.get(callback), after, "could not be completed")
    # nor does the old code with a new, valid state: the provider refuses the second exchange
    second = google_consent(oidc_provider, browser_like, "g-bob", BOB)
    new_state = parse_qs(urlparse(second).query)["state"][0]
    replay = second.split("?")[0] + "?" + urlencode({"code": parse_qs(urlparse(callback).query)["code"][0],
                                                      "state": new_state})
    assert_refused(live_app, browser_like.get(replay), after, "could not be completed")


def test_declining_at_the_provider_is_explained(live_app, oidc_provider, browser_like):
    before = session_count(live_app)
    callback = google_consent(oidc_provider, browser_like, "g-carol", {"email": "carol@example.com"}, deny=True)
    assert_refused(live_app, browser_like.get(callback), before, "You cancelled the sign-in with Google")


def test_an_unverified_google_address_is_refused(live_app, oidc_provider, browser_like):
    before = session_count(live_app)
    callback = google_consent(oidc_provider, browser_like, "g-dan", {"email": "dan@example.com",
                                                                     "email_verified": False})
    assert_refused(live_app, browser_like.get(callback), before, "not verified")


# ------------------------------------------------------------------ GitHub (OAuth2)


def github_sign_in(client: httpx.Client, next_path: str = "/") -> httpx.Response:
    start = client.get(f"/auth/login/github?{urlencode({'next': next_path})}")
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    return client.get(consent.headers["location"])


def test_github_sign_in_uses_the_verified_primary_address(live_app, github, browser_like):
    github.state.user = {"id": 555, "login": "octo", "name": None}
    github.state.emails = [
        {"email": "old@example.com", "primary": False, "verified": True, "visibility": None},
        {"email": "Octo@Example.com", "primary": True, "verified": True, "visibility": "private"},
    ]
    landed = github_sign_in(browser_like, "/?from=github")
    assert landed.status_code == 303 and landed.headers["location"] == "/?from=github"
    user = signed_in_user(live_app, browser_like)
    assert user.email == "octo@example.com" and user.name == "octo"


def test_the_same_address_by_google_github_and_link_is_one_account(live_app, oidc_provider, github, mailbox):
    address = "same.person@example.com"
    ids = set()
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False) as one:
        one.get(google_consent(oidc_provider, one, "g-same", {"email": address, "email_verified": True}))
        ids.add(signed_in_user(live_app, one).id)
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False) as two:
        github.state.user = {"id": 777, "login": "same", "name": "Same"}
        github.state.emails = [{"email": address.upper(), "primary": True, "verified": True}]
        github_sign_in(two)
        ids.add(signed_in_user(live_app, two).id)
    for variant in ("Same.Person@example.com", "ＳＡＭＥ.ｐｅｒｓｏｎ@example.com"):  # case, full-width letters
        with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False) as three:
            follow_magic_link(three, mailbox, variant)
            ids.add(signed_in_user(live_app, three).id)
    assert len(ids) == 1


def test_an_unverified_github_address_is_refused(live_app, github, browser_like):
    github.state.user = {"id": 556, "login": "shady"}
    github.state.emails = [{"email": "shady@example.com", "primary": True, "verified": False}]
    before = session_count(live_app)
    assert_refused(live_app, github_sign_in(browser_like), before, "no verified primary e-mail")


def test_declining_on_github_is_explained(live_app, github, browser_like):
    github.state.deny = True
    try:
        before = session_count(live_app)
        assert_refused(live_app, github_sign_in(browser_like), before, "You cancelled the sign-in with GitHub")
    finally:
        github.state.deny = False


def test_a_provider_that_times_out_is_explained(live_app, github, browser_like):
    github.state.slow_token_s = 3.0  # the app waits 2 s (OAUTH_TIMEOUT_S in the test settings)
    try:
        before = session_count(live_app)
        assert_refused(live_app, github_sign_in(browser_like), before, "did not answer in time")
    finally:
        github.state.slow_token_s = 0.0


def test_after_sign_in_the_visitor_never_leaves_the_site(live_app, github, browser_like):
    github.state.user = {"id": 600, "login": "nav"}
    github.state.emails = [{"email": "nav@example.com", "primary": True, "verified": True}]
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        browser_like.cookies.clear()
        landed = github_sign_in(browser_like, evil)
        assert landed.status_code == 303 and landed.headers["location"] == "/"


def test_unconfigured_providers_say_so(browser_like):
    answer = browser_like.get("/auth/login/facebook")
    assert answer.status_code == 404 and "not set up" in answer.text


# ------------------------------------------------------------------ magic links


def follow_magic_link(client: httpx.Client, mailbox, address: str, next_path: str = "/") -> httpx.Response:
    asked = client.post("/auth/email", data={"email": address, "next": next_path})
    assert asked.status_code == 200, asked.text
    mail = mailbox.last_to(normalize_email(address))
    link = re.search(r"http://\S+/auth/magic\?token=\S+", mail.get_content()).group(0)
    confirm = client.get(f"{urlparse(link).path}?{urlparse(link).query}")
    assert confirm.status_code == 200 and "Sign in" in confirm.text
    token = parse_qs(urlparse(link).query)["token"][0]
    return client.post("/auth/magic", data={"token": token})


def test_magic_link_end_to_end_once_only(live_app, mailbox, browser_like):
    landed = follow_magic_link(browser_like, mailbox, "Erin@Example.com", next_path="/?from=mail")
    assert landed.status_code == 303 and landed.headers["location"] == "/?from=mail"
    mail = mailbox.last_to("erin@example.com")
    assert mail["From"] == "Studio <studio@example.com>" and "sign-in link" in mail["Subject"]
    user = signed_in_user(live_app, browser_like)
    assert user.email == "erin@example.com"
    token = parse_qs(urlparse(re.search(r"http://\S+", mail.get_content()).group(0)).query)["token"][0]
    browser_like.cookies.clear()
    before = session_count(live_app)
    assert_refused(live_app, browser_like.post("/auth/magic", data={"token": token}), before, "already used")


def test_an_expired_magic_link_fails(live_app, mailbox, browser_like):
    browser_like.post("/auth/email", data={"email": "late@example.com"})
    token = parse_qs(urlparse(re.search(r"http://\S+", mailbox.last_to("late@example.com").get_content())
                              .group(0)).query)["token"][0]
    with live_app.studio.engine.begin() as conn:
        conn.execute(magic_links.update().where(magic_links.c.token_hash == hash_token(token))
                     .values(expires_at=magic_links.c.created_at))
    before = session_count(live_app)
    assert_refused(live_app, browser_like.post("/auth/magic", data={"token": token}), before, "expired")


@pytest.mark.parametrize(("address", "message"), [
    ("", "type your e-mail"),
    ("not an address", "does not look like"),
    ("x" * 10_000 + "@example.com", "too long"),
    ("victim@example.com\r\nBcc: everyone@example.com", "cannot have"),
])
def test_bad_addresses_get_a_sentence_and_no_mail(mailbox, browser_like, address, message):
    sent = len(mailbox.messages)
    answer = browser_like.post("/auth/email", data={"email": address})
    assert answer.status_code == 400 and message in answer.json()["message"]
    assert len(mailbox.messages) == sent


def test_a_flood_of_links_is_stopped(mailbox, browser_like):
    answers = [browser_like.post("/auth/email", data={"email": "flood@example.com"}) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert "Too many" in answers[-1].json()["message"]
    assert len([m for m in mailbox.messages if "flood@example.com" in m["To"]]) == 5


# ------------------------------------------------------------------ sessions and keys at the door


def test_forged_and_revoked_cookies_are_guests(live_app, browser_like):
    browser_like.cookies.set(COOKIE, "forged-token-value")
    assert browser_like.get("/config").json()["username"] == "guest"
    user = live_app.new_user()
    token = live_app.studio.accounts.start_session(user, "pytest")
    browser_like.cookies.set(COOKIE, token)
    assert browser_like.get("/config").json()["username"] == f"user:{user.id}"
    live_app.studio.accounts.users.delete(user.id)  # a session of a deleted user
    assert browser_like.get("/config").json()["username"] == "guest"


def test_sign_out_here_and_everywhere_over_http(live_app, browser_like):
    user = live_app.new_user()
    here = live_app.studio.accounts.start_session(user, "laptop")
    elsewhere = live_app.studio.accounts.start_session(user, "phone")
    browser_like.cookies.set(COOKIE, here)
    out = browser_like.post("/auth/logout")
    assert out.status_code == 303 and 'studio_session=""' in out.headers["set-cookie"]
    sessions = live_app.studio.accounts.sessions
    assert sessions.resolve(here) is None and sessions.resolve(elsewhere) is not None
    browser_like.cookies.set(COOKIE, elsewhere)
    browser_like.post("/auth/logout-all")
    assert sessions.resolve(elsewhere) is None
