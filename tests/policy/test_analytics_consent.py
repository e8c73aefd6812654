"""Policy: essential cookies always, Google Analytics only after "Accept analytics", and gone after withdrawal.

A second app with GA_MEASUREMENT_ID set is served for these tests. Chromium has no internet:
every request to a Google host is answered here and recorded; gtag.js is a stub that sets the
_ga cookies the way the real one does (document.cookie, only when analytics storage is granted)
and keeps the dataLayer it found, so the consent-mode order can be checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from auth.accounts import Accounts
from config import Settings
from policy.analytics import head_html
from policy.consents import ANALYTICS, POLICY, Consents
from policy.cookies import COOKIE_NAME, MAX_AGE_S, NOTICE_VERSION, read_choice, sign_choice
from policy.routes import consent_router
from store.tables import consents as consents_table
from tests.conftest import LiveApp, make_settings, serve_app
from tests.ui.studio_page import TIMEOUT_MS

MEASUREMENT_ID = "G-TEST123"
GOOGLE = re.compile(
    r"^https?://([a-z0-9-]+\.)*(google|googletagmanager|google-analytics|googleapis|gstatic|doubleclick)"
    r"\.[a-z.]+(:\d+)?(/|$)"
)
QUIET_MS = 3000  # after the page has loaded: time for anything late to show up

# gtag.js as far as these tests need it: read the consent state the page pushed, and set the _ga
# cookies with document.cookie only when analytics storage is granted (as the real script does).
GTAG_STUB = """(function () {
  var id = new URL(document.currentScript.src).searchParams.get('id') || '';
  var calls = JSON.parse(JSON.stringify((window.dataLayer || []).map(function (a) {
    return Array.prototype.slice.call(a);
  })));
  var analytics = 'denied';
  calls.forEach(function (c) {
    if (c[0] === 'consent' && c[2] && c[2].analytics_storage) analytics = c[2].analytics_storage;
  });
  if (analytics === 'granted') {
    var now = Math.floor(Date.now() / 1000);
    document.cookie = '_ga=GA1.1.' + Math.floor(Math.random() * 1e9) + '.' + now + '; path=/; max-age=63072000';
    document.cookie = '_ga_' + id.replace(/^G-/, '') + '=GS2.1.s' + now + '$o1; path=/; max-age=63072000';
  }
  window.__gtagStub = {id: id, analytics: analytics, calls: calls};
})();"""


class Google:
    """Answers and records every request to a Google host; also records any request off loopback."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.off_loopback: list[str] = []
        page.context.route(GOOGLE, self._answer)
        page.context.on("request", self._seen)

    def _answer(self, route) -> None:
        self.requests.append(route.request.url)
        if urlsplit(route.request.url).path == "/gtag/js":
            route.fulfill(status=200, content_type="application/javascript", body=GTAG_STUB)
        else:
            route.fulfill(status=204, body="")

    def _seen(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.hostname not in ("127.0.0.1", "localhost"):
            self.off_loopback.append(request.url)

    def gtag_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).path == "/gtag/js"]


@pytest.fixture(scope="module")
def ga_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """The app with a measurement id."""
    settings = make_settings(tmp_path_factory.mktemp("ga-data"), tiny_models, ga_measurement_id=MEASUREMENT_ID)
    yield from serve_app(settings)


def open_page(page, app: LiveApp) -> None:
    """Load the page, wait until Gradio has drawn it, then a little longer."""
    page.goto(app.url)
    page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_load_state("load")
    page.wait_for_timeout(QUIET_MS)


def cookies(page) -> dict[str, dict]:
    return {c["name"]: c for c in page.context.cookies()}


def analytics_cookies(page) -> list[str]:
    return sorted(name for name in cookies(page) if name == "_ga" or name.startswith("_ga_"))


def accept_in_banner(page, app: LiveApp, google: Google) -> None:
    open_page(page, app)
    with page.expect_navigation(timeout=TIMEOUT_MS):  # the page is sent again, now allowed to load Google's script
        page.click("#studio-cookie-accept")
    page.wait_for_function("window.__gtagStub !== undefined", timeout=TIMEOUT_MS)
    assert analytics_cookies(page) == ["_ga", "_ga_TEST123"]


# ------------------------------------------------------------------ in Chromium


def test_before_consent_nothing_reaches_google_and_the_banner_asks(page, ga_app):
    google = Google(page)
    open_page(page, ga_app)

    assert google.requests == [] and google.off_loopback == []
    assert analytics_cookies(page) == []
    assert page.eval_on_selector_all("script[src*='googletagmanager'], script[src*='google-analytics']",
                                     "els => els.length") == 0
    first = page.evaluate("JSON.parse(JSON.stringify(Array.from(window.dataLayer[0])))")
    assert first == ["consent", "default", {"analytics_storage": "denied", "ad_storage": "denied",
                                            "ad_user_data": "denied", "ad_personalization": "denied"}]

    banner = page.locator("#studio-cookie-banner")
    assert banner.get_attribute("role") == "dialog" and banner.get_attribute("aria-label")
    assert page.evaluate("document.activeElement.closest('#studio-cookie-banner') !== null")  # focus is on it
    assert page.inner_text("#studio-cookie-accept") == "Accept analytics"
    assert page.inner_text("#studio-cookie-essential") == "Only essential"
    box = banner.bounding_box()
    assert box["height"] < 0.4 * 900 and box["width"] < 1280  # a bar, not a wall over the page

    page.click("#studio-cookie-banner a")  # the link opens the Privacy policy tab
    page.wait_for_selector("#privacy-tab-button[aria-selected=true]", timeout=TIMEOUT_MS)

    page.click("#studio-cookie-essential")
    page.wait_for_selector("#studio-cookie-banner", state="detached")
    assert read_choice(ga_app.studio.settings, cookies(page)[COOKIE_NAME]["value"]) is False
    page.reload()
    page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(QUIET_MS)
    assert not page.is_visible("#studio-cookie-banner")  # the choice is remembered
    assert google.requests == [] and analytics_cookies(page) == []


def test_the_banner_speaks_swedish_to_a_swedish_page_on_a_phone(browser, ga_app):
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        google = Google(page)
        page.goto(ga_app.url)
        page.wait_for_selector("#studio-cookie-banner", timeout=TIMEOUT_MS)
        assert page.get_attribute("#studio-cookie-banner", "lang") == "sv"
        assert page.inner_text("#studio-cookie-accept") == "Godkänn analys"
        assert page.inner_text("#studio-cookie-essential") == "Bara nödvändiga"
        assert "integritetspolicyn" in page.inner_text("#studio-cookie-banner a")
        assert page.locator("#studio-cookie-banner").bounding_box()["height"] < 0.5 * 800

        page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
        page.click("#studio-cookie-banner a")  # the tab sits in Gradio's "More tabs" menu on a narrow screen
        page.wait_for_selector("#privacy-policy", state="visible", timeout=TIMEOUT_MS)

        host = urlsplit(ga_app.url).hostname
        context.add_cookies([{"name": "studio_lang", "value": "en", "domain": host, "path": "/"}])
        page.reload()
        page.wait_for_selector("#studio-cookie-banner", timeout=TIMEOUT_MS)
        assert page.inner_text("#studio-cookie-accept") == "Accept analytics"  # the language switch wins
        assert google.requests == []
    finally:
        context.close()


def test_accepting_loads_gtag_with_consent_mode_denied_first(page, ga_app):
    google = Google(page)
    accept_in_banner(page, ga_app, google)

    [url] = google.gtag_requests()
    parts = urlsplit(url)
    assert parts.hostname == "www.googletagmanager.com" and parse_qs(parts.query)["id"] == [MEASUREMENT_ID]
    stub = page.evaluate("window.__gtagStub")
    assert stub["id"] == MEASUREMENT_ID and stub["analytics"] == "granted"
    calls = stub["calls"]
    default = calls.index(["consent", "default", {"analytics_storage": "denied", "ad_storage": "denied",
                                                  "ad_user_data": "denied", "ad_personalization": "denied"}])
    update = calls.index(["consent", "update", {"analytics_storage": "granted"}])  # analytics only, ads stay denied
    config = calls.index(["config", MEASUREMENT_ID])
    assert default < update < config
    assert not page.is_visible("#studio-cookie-banner")

    consent = cookies(page)[COOKIE_NAME]
    assert consent["httpOnly"] and consent["sameSite"] == "Lax"
    assert read_choice(ga_app.studio.settings, consent["value"]) is True

    page.reload()  # remembered: no banner, analytics loads again
    page.wait_for_function("window.__gtagStub !== undefined", timeout=TIMEOUT_MS)
    assert len(google.gtag_requests()) == 2 and not page.is_visible("#studio-cookie-banner")


def test_withdrawing_in_the_consent_tab_deletes_the_cookies_and_stops_loading(page, ga_app):
    google = Google(page)
    accept_in_banner(page, ga_app, google)

    page.click("#consent-tab-button")
    page.wait_for_function(
        "document.querySelector('#consent-analytics').innerText.includes('You allow analytics')", timeout=TIMEOUT_MS
    )
    assert not page.is_visible("#consent-accept")
    google.requests.clear()
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("#consent-withdraw")
    page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(QUIET_MS)

    assert analytics_cookies(page) == []
    assert google.requests == []
    assert page.evaluate("window.__gtagStub") is None
    assert page.eval_on_selector_all("script[src*='googletagmanager']", "els => els.length") == 0
    assert not page.is_visible("#studio-cookie-banner")  # a choice was made: essential only
    assert read_choice(ga_app.studio.settings, cookies(page)[COOKIE_NAME]["value"]) is False

    page.click("#consent-tab-button")
    page.wait_for_function(
        "document.querySelector('#consent-analytics').innerText.includes('essential cookies only')",
        timeout=TIMEOUT_MS,
    )
    assert page.is_visible("#consent-accept") and not page.is_visible("#consent-withdraw")

    page.reload()
    page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(QUIET_MS)
    assert google.requests == [] and analytics_cookies(page) == []


def test_a_tampered_cookie_is_no_choice_and_loads_nothing(page, ga_app):
    settings = ga_app.studio.settings
    granted = sign_choice(settings, True)
    payload, signature = granted.rsplit(".", 1)
    other_key = Settings(_env_file=None, secret_key="another-secret-entirely")
    forged = [
        f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",  # a changed signature
        sign_choice(other_key, True),  # signed with someone else's key
        f"{sign_choice(settings, False).rsplit('.', 1)[0]}.{signature}",  # another payload under this signature
        "true", "1", "analytics=1", "", "x" * 4000,
    ]
    for value in forged:
        answer = httpx.get(ga_app.url + "consent/cookies", cookies={COOKIE_NAME: value})
        assert answer.status_code == 200 and answer.json()["analytics"] is None, value

    google = Google(page)
    host = urlsplit(ga_app.url).hostname
    page.context.add_cookies([{"name": COOKIE_NAME, "value": forged[0], "domain": host, "path": "/"}])
    open_page(page, ga_app)
    assert page.is_visible("#studio-cookie-banner")
    assert google.requests == [] and analytics_cookies(page) == []


def test_a_signed_in_users_choice_follows_them_to_a_new_browser(page, ga_app):
    session = ga_app.session_cookie()
    user_id = ga_app.studio.accounts.sessions.resolve(session["value"]).user_id
    answer = httpx.post(ga_app.url + "consent/cookies", json={"analytics": True},
                        cookies={session["name"]: session["value"]})
    assert answer.status_code == 200
    assert ga_app.studio.consents.current(user_id, ANALYTICS).granted is True
    ga_app.studio.acceptance.accept(user_id)

    google = Google(page)  # a new browser: the session, no consent cookie
    page.context.add_cookies([session])
    open_page(page, ga_app)
    page.wait_for_function("window.__gtagStub !== undefined", timeout=TIMEOUT_MS)
    assert len(google.gtag_requests()) == 1 and not page.is_visible("#studio-cookie-banner")
    assert read_choice(ga_app.studio.settings, cookies(page)[COOKIE_NAME]["value"]) is True  # and the cookie is set

    page.click("#consent-tab-button")
    page.wait_for_function(
        "document.querySelector('#consent-policy').innerText.includes('You accepted the privacy policy')",
        timeout=TIMEOUT_MS,
    )
    policy = page.inner_text("#consent-policy")
    accepted = ga_app.studio.consents.current(user_id, POLICY)
    assert ga_app.studio.acceptance.version in policy and f"{accepted.at:%Y-%m-%d}" in policy
    assert "Account → My data → Delete account" in policy
    assert "Saved on your account" in page.inner_text("#consent-analytics")
    assert page.inner_text("#consent-text").strip()  # the consent document


def test_without_a_measurement_id_there_is_no_banner_and_no_third_party_script(page, live_app):
    answer = httpx.get(live_app.url)
    sources = ScriptSources()
    sources.feed(answer.text)
    config = httpx.get(live_app.url + "config").json()
    sources.feed(config.get("head") or "")
    origin = urlsplit(live_app.url)
    for src in sources.found:
        parts = urlsplit(src)
        assert not parts.netloc or (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc), src
    assert "googletagmanager" not in answer.text and "googletagmanager" not in (config.get("head") or "")
    state = httpx.get(live_app.url + "consent/cookies").json()
    assert state["measurement_id"] is None

    google = Google(page)
    open_page(page, live_app)
    assert not page.is_visible("#studio-cookie-banner")
    page.click("#consent-tab-button")
    page.wait_for_function(
        "document.querySelector('#consent-analytics').innerText.includes('uses no analytics')", timeout=TIMEOUT_MS
    )
    assert not page.is_visible("#consent-accept") and not page.is_visible("#consent-withdraw")
    assert google.requests == [] and google.off_loopback == []


class ScriptSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        src = dict(attrs).get("src")
        if tag == "script" and src:
            self.found.append(src)


# ------------------------------------------------------------------ over HTTP


@pytest.mark.parametrize(("content_type", "body", "status"), [
    ("text/plain", '{"analytics": true}', 415),
    ("application/x-www-form-urlencoded", "analytics=true", 415),
    ("application/json", "not json", 400),
    ("application/json", "", 400),
    ("application/json", "[" * 1000, 400),
    ("application/json", "[true]", 422),
    ("application/json", "{}", 422),
    ("application/json", '{"analytics": "yes"}', 422),
    ("application/json", '{"analytics": 1}', 422),
    ("application/json", '{"analytics": null}', 422),
    ("application/json", '{"analytics": true, "ads": true}', 422),
])  # a body over a kilobyte is refused at the edge: tests/web/test_limits.py
def test_a_bad_choice_is_refused_with_a_sentence_and_sets_nothing(ga_app, content_type, body, status):
    answer = httpx.post(ga_app.url + "consent/cookies", content=body.encode(), headers={"content-type": content_type})
    assert answer.status_code == status
    message = answer.json()["message"]
    assert message[0].isupper() and message.endswith(".") and " " in message
    assert "set-cookie" not in answer.headers


def consent_client(engine, tmp_path, **overrides) -> tuple[TestClient, Accounts, Consents]:
    settings = make_settings(tmp_path, tmp_path, ga_measurement_id=MEASUREMENT_ID, **overrides)
    accounts, consents = Accounts(engine, settings), Consents(engine)
    app = FastAPI()
    app.include_router(consent_router(accounts, consents))
    base = overrides.get("public_url") or "http://studio.example.com"
    return TestClient(app, base_url=base), accounts, consents


def rows(engine, user_id: int) -> list[tuple]:
    query = sa.select(consents_table.c.kind, consents_table.c.version, consents_table.c.granted).where(
        consents_table.c.user_id == user_id).order_by(consents_table.c.id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_a_signed_in_choice_is_recorded_on_the_account(engine, tmp_path):
    client, accounts, _ = consent_client(engine, tmp_path)
    user = accounts.users.create("astrid@example.com")
    client.cookies.set(accounts.settings.session_cookie_name, accounts.start_session(user, "pytest"))

    assert client.post("/consent/cookies", json={"analytics": True}).status_code == 200
    assert client.post("/consent/cookies", json={"analytics": False}).status_code == 200
    assert rows(engine, user.id) == [(ANALYTICS, NOTICE_VERSION, True), (ANALYTICS, NOTICE_VERSION, False)]

    def count() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(consents_table)).scalar()

    before = count()
    guest, _, _ = consent_client(engine, tmp_path)
    assert guest.post("/consent/cookies", json={"analytics": True}).json()["analytics"] is True
    assert count() == before  # guests: the cookie only, nothing in the database


def test_the_accounts_choice_applies_without_a_cookie_and_a_guests_choice_is_kept_on_sign_in(engine, tmp_path):
    client, accounts, consents = consent_client(engine, tmp_path)
    settings = accounts.settings
    user = accounts.users.create("bo@example.com")
    consents.record(user.id, ANALYTICS, NOTICE_VERSION, granted=True)
    client.cookies.set(settings.session_cookie_name, accounts.start_session(user, "pytest"))
    answer = client.get("/consent/cookies")
    assert answer.json() == {"analytics": True, "measurement_id": MEASUREMENT_ID, "version": NOTICE_VERSION}
    assert read_choice(settings, answer.cookies[COOKIE_NAME]) is True  # the new browser gets the cookie

    consents.record(user.id, ANALYTICS, "an-older-notice", granted=False)  # an older notice's choice: ask again
    client.cookies.clear()
    client.cookies.set(settings.session_cookie_name, accounts.start_session(user, "pytest"))
    assert client.get("/consent/cookies").json()["analytics"] is None

    other = accounts.users.create("cajsa@example.com")  # chose as a guest, then signed in
    guest, _, _ = consent_client(engine, tmp_path)
    guest.cookies.set(COOKIE_NAME, sign_choice(settings, False))
    guest.cookies.set(settings.session_cookie_name, accounts.start_session(other, "pytest"))
    assert guest.get("/consent/cookies").json()["analytics"] is False
    assert guest.get("/consent/cookies").json()["analytics"] is False
    assert rows(engine, other.id) == [(ANALYTICS, NOTICE_VERSION, False)]  # recorded once


def set_cookies(answer) -> list[str]:
    return answer.headers.get_list("set-cookie")


def test_withdrawal_expires_the_analytics_cookies_on_the_host_and_its_parents(engine, tmp_path):
    client, _, _ = consent_client(engine, tmp_path)
    client.cookies.set("_ga", "GA1.1.1.1")
    client.cookies.set("_gid", "GA1.1.2.2")
    client.cookies.set("keep_me", "yes")
    answer = client.post("/consent/cookies", json={"analytics": False})
    headers = set_cookies(answer)
    for name in ("_ga", "_ga_TEST123", "_gid"):  # _ga_<id> even when the browser did not send it
        expired = [h for h in headers if h.startswith(f"{name}=") and "Max-Age=0" in h]
        domains = {re.search(r"Domain=([^;]+)", h).group(1) if "Domain=" in h else None for h in expired}
        assert domains == {None, "studio.example.com", "example.com"}, (name, expired)
    assert not any(h.startswith("keep_me=") for h in headers)
    [consent] = [h for h in headers if h.startswith(f"{COOKIE_NAME}=")]
    assert "HttpOnly" in consent and f"Max-Age={MAX_AGE_S}" in consent and "SameSite=lax" in consent
    assert "Path=/" in consent and "Secure" not in consent

    accepted = client.post("/consent/cookies", json={"analytics": True})
    assert not any(h.startswith("_ga") for h in set_cookies(accepted))


def test_behind_https_the_consent_cookie_is_secure(engine, tmp_path):
    client, _, _ = consent_client(engine, tmp_path, public_url="https://studio.example.org")
    answer = client.post("/consent/cookies", json={"analytics": False})
    [consent] = [h for h in set_cookies(answer) if h.startswith(f"{COOKIE_NAME}=")]
    assert "Secure" in consent and "HttpOnly" in consent
    assert any("Domain=example.org" in h for h in set_cookies(answer) if h.startswith("_ga="))


# ------------------------------------------------------------------ the pieces


def test_the_cookie_reads_back_only_what_this_app_signed(tmp_path):
    settings = make_settings(tmp_path, tmp_path)
    assert read_choice(settings, sign_choice(settings, True)) is True
    assert read_choice(settings, sign_choice(settings, False)) is False
    assert read_choice(settings, None) is None and read_choice(settings, "") is None
    other = make_settings(tmp_path, tmp_path, secret_key="a-different-secret")
    assert read_choice(other, sign_choice(settings, True)) is None


def test_the_head_is_empty_without_a_measurement_id_and_cannot_be_broken_out_of(tmp_path):
    assert head_html(make_settings(tmp_path, tmp_path)) == ""
    with pytest.raises(ValueError, match="GA_MEASUREMENT_ID"):
        head_html(make_settings(tmp_path, tmp_path, ga_measurement_id="G-1'};alert(1);//"))
    head = head_html(make_settings(tmp_path, tmp_path, ga_measurement_id=MEASUREMENT_ID,
                                   brand_name="</script><script>alert(1)</script>"))
    assert head.count("<script>") == 1 and head.count("</script>") == 1
    assert "<script src" not in head  # gtag.js is added by the script, after consent only


def test_the_pages_policy_names_google_only_for_a_visitor_who_accepted(engine, tmp_path):
    """analytics_check feeds the Content-Security-Policy (web/headers.py): the cookie's word, else the account's."""
    from starlette.requests import HTTPConnection

    from policy.cookies import analytics_check

    settings = make_settings(tmp_path, tmp_path, ga_measurement_id=MEASUREMENT_ID)
    accounts, consents = Accounts(engine, settings), Consents(engine)
    accepted = analytics_check(settings, consents, accounts)

    def visitor(cookies: dict[str, str], authorization: str | None = None) -> HTTPConnection:
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        headers = [(b"cookie", cookie.encode())] + ([(b"authorization", authorization.encode())] if authorization
                                                     else [])
        return HTTPConnection({"type": "http", "headers": headers})

    assert accepted(visitor({COOKIE_NAME: sign_choice(settings, True)}))
    assert not accepted(visitor({COOKIE_NAME: sign_choice(settings, False)}))
    assert not accepted(visitor({COOKIE_NAME: sign_choice(settings, True)[:-2] + "xx"}))  # forged: no choice
    assert not accepted(visitor({}))
    user = accounts.users.create("dora@example.com")
    session = {settings.session_cookie_name: accounts.start_session(user, "pytest")}
    assert not accepted(visitor(session))
    consents.record(user.id, ANALYTICS, NOTICE_VERSION, granted=True)
    assert accepted(visitor(session))  # a new browser: the account's choice
    assert not accepted(visitor({**session, COOKIE_NAME: sign_choice(settings, False)}))  # this browser's word wins
    assert not accepted(visitor({}, "Bearer not-a-key"))
    without = analytics_check(make_settings(tmp_path, tmp_path), consents, accounts)
    assert not without(visitor({COOKIE_NAME: sign_choice(settings, True)}))  # no measurement id: never
