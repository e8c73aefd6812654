"""Other sites can neither change anything in a visitor's name nor read the answers the visitor's cookies earn.

The browser tests serve an attacker's page from a second origin on loopback: 127.0.0.1 on another
port is the same site as the app (its SameSite=Lax cookie goes along, as to a sibling subdomain),
`localhost` is another site (only a SameSite=None cookie goes along, as inside the Spaces iframe).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from auth.magic_links import SIGN_IN
from tests.conftest import LiveApp, make_settings, serve_app, serve_in_thread, watched_page
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from web.origins import CrossSiteGuard

REFUSED = "This request came from another site; changes are accepted only from Studio's own pages."


# ------------------------------------------------------------------ the middleware alone


async def gradio_like(scope, receive, send) -> None:
    """Answers as Gradio 6.31 does off localhost: whatever Origin came, allowed, with credentials."""
    origin = dict(scope["headers"]).get(b"origin", b"").decode()
    headers = {"access-control-allow-origin": origin, "access-control-allow-credentials": "true"} if origin else {}
    await JSONResponse({"done": True}, headers=headers)(scope, receive, send)


def guarded(public_url: str | None = None, allowed: tuple[str, ...] = ()) -> TestClient:
    app = CrossSiteGuard(gradio_like, public_url=public_url, allowed_origins=list(allowed), brand="Studio")
    return TestClient(app, base_url="http://studio.test")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("origin", ["https://evil.example", "http://studio.test.evil.example", "null",
                                    "http://studio.test:8080", "https://studio.test"])
def test_writes_from_another_origin_are_refused(method, origin):
    answer = guarded().request(method, "/account/delete", headers={"origin": origin})
    assert answer.status_code == 403 and answer.json() == {"error": REFUSED}


@pytest.mark.parametrize(("fetch_site", "status"), [
    ("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200), (None, 200),
])
def test_without_origin_sec_fetch_site_decides_and_clients_that_send_neither_pass(fetch_site, status):
    headers = {"sec-fetch-site": fetch_site} if fetch_site else {}
    assert guarded().post("/auth/logout-all", headers=headers).status_code == status


def test_writes_from_the_apps_own_origin_and_named_embedders_pass():
    client = guarded(public_url="https://studio.example.com", allowed=("https://partner.example",))
    for origin in ("http://studio.test", "http://STUDIO.test:80", "https://studio.example.com:443",
                   "https://partner.example"):
        assert client.post("/gradio_api/queue/join", headers={"origin": origin}).status_code == 200, origin


def test_creems_signed_webhook_is_not_a_browsers_request():
    assert guarded().post("/webhooks/creem", headers={"origin": "https://evil.example"}).status_code == 200


def test_cors_headers_only_for_named_embedders():
    client = guarded(allowed=("https://partner.example",))
    foreign = client.get("/gradio_api/info", headers={"origin": "https://evil.example"})
    assert foreign.status_code == 200 and not [h for h in foreign.headers if h.startswith("access-control-")]
    partner = client.get("/gradio_api/info", headers={"origin": "https://partner.example"})
    assert partner.headers["access-control-allow-origin"] == "https://partner.example"
    assert partner.headers["access-control-allow-credentials"] == "true" and "Origin" in partner.headers["vary"]


def test_preflights_are_answered_for_named_origins_only():
    client = guarded(allowed=("https://partner.example",))
    ask = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    refused = client.options("/gradio_api/queue/join", headers={"origin": "https://evil.example", **ask})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    allowed = client.options("/gradio_api/queue/join", headers={"origin": "https://partner.example", **ask})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == "https://partner.example"
    assert allowed.headers["access-control-allow-methods"] == "POST"
    assert allowed.headers["access-control-allow-headers"] == "content-type"


@pytest.mark.parametrize("value", ["partner.example", "https://partner.example/path", "ftp://partner.example",
                                   "https://partner.example; script-src *", "https://*.example"])
def test_a_mistyped_allowed_origin_fails_the_start(tmp_path, value):
    """The entries go into headers as they are (CORS, frame-ancestors), so nothing but an origin is taken."""
    with pytest.raises(ValueError, match="ALLOWED_ORIGINS"):
        make_settings(tmp_path, tmp_path, allowed_origins=f"https://fine.example,{value}")
    assert make_settings(tmp_path, tmp_path, allowed_origins="HTTPS://Partner.example:8443/ , http://[::1]:80"
                         ).allowed_origins == ["https://partner.example:8443", "http://[::1]:80"]


# ------------------------------------------------------------------ an attacker's page, in Chromium


class Attacker:
    """A site on another origin that serves whatever page a test writes for it."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        app = Starlette(routes=[Route("/{name}", self.serve)])
        self.url, self.server, self.thread = serve_in_thread(app)
        self.port = int(self.url.rsplit(":", 1)[1])

    async def serve(self, request) -> Response:
        return HTMLResponse(self.pages.get(request.path_params["name"], "nothing here"))

    def page(self, html: str, host: str = "127.0.0.1") -> str:
        name = uuid.uuid4().hex
        self.pages[name] = html
        return f"http://{host}:{self.port}/{name}"


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    site = Attacker()
    yield site
    site.server.should_exit = True
    site.thread.join(timeout=10)


@pytest.fixture(scope="module")
def iframe_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """As inside the Spaces iframe: COOKIE_SAMESITE=none, so the session cookie goes along on cross-site posts."""
    yield from serve_app(make_settings(tmp_path_factory.mktemp("iframe-data"), tiny_models, cookie_samesite="none"))


@pytest.fixture
def tab(browser):
    yield from watched_page(browser)


def form_post(action: str, fields: dict[str, str] | None = None, json_body: dict | None = None) -> str:
    """A page that posts a form the moment it loads; JSON goes as text/plain, the classic way past a JSON API."""
    if json_body is not None:
        text = json.dumps(json_body)[:-1] + ', "pad": "'  # the form adds "=" and the value's closing '"}'
        fields = {text: '"}'}
        enctype = "text/plain"
    else:
        enctype = "application/x-www-form-urlencoded"
    inputs = "".join(f"<input type='hidden' name='{name}' value='{value}'>" for name, value in (fields or {}).items())
    return (f"<form id='f' method='post' action='{action}' enctype='{enctype}'>{inputs}</form>"
            "<script>document.getElementById('f').submit()</script>")


def posted_from(tab, attacker: Attacker, html: str, target: str, host: str = "127.0.0.1") -> int:
    """Open the attacker's page, let its form post to `target`, and return the status the app answered."""
    with tab.expect_response(lambda response: response.url == target, timeout=TIMEOUT_MS) as answer:
        tab.goto(attacker.page(html, host))
    tab.wait_for_load_state()
    return answer.value.status


def cross_site_forms(app: LiveApp, email: str) -> list[tuple[str, str]]:
    version = app.studio.acceptance.version
    return [
        (f"{app.url}account/delete", form_post(f"{app.url}account/delete", json_body={"confirm_email": email})),
        (f"{app.url}account/accept-policy", form_post(f"{app.url}account/accept-policy",
                                                      json_body={"version": version})),
        (f"{app.url}auth/logout-all", form_post(f"{app.url}auth/logout-all")),
        (f"{app.url}auth/logout", form_post(f"{app.url}auth/logout")),
    ]


def assert_untouched(app: LiveApp, user, token: str) -> None:
    assert app.studio.accounts.users.get(user.id) is not None  # not deleted
    assert app.studio.accounts.sessions.resolve(token) is not None  # not signed out
    assert not app.studio.acceptance.accepted(user.id)  # nothing accepted in the user's name


def test_a_same_site_page_cannot_post_forms_in_the_users_name(tab, live_app, attacker):
    """127.0.0.1 on another port is the same site: the Lax session cookie goes along, as to a sibling subdomain."""
    user = live_app.new_user(accepted=False)
    cookie = {**live_app.session_cookie(user=user), "sameSite": "Lax"}
    tab.context.add_cookies([cookie])
    for target, html in cross_site_forms(live_app, user.email):
        assert posted_from(tab, attacker, html, target) == 403, target
        assert REFUSED in tab.content()
        assert_untouched(live_app, user, cookie["value"])


def test_another_site_cannot_post_forms_even_with_samesite_none(tab, iframe_app, attacker):
    """COOKIE_SAMESITE=none: the cookie goes along on cross-site posts, and only the origin check stands."""
    user = iframe_app.new_user(accepted=False)
    token = sign_in_in_the_browser(tab, iframe_app, user)
    for target, html in cross_site_forms(iframe_app, user.email):
        assert posted_from(tab, attacker, html, target, host="localhost") == 403, target
        assert_untouched(iframe_app, user, token)


STEAL_JS = """async ([app, fn, trigger]) => {
  const results = {};
  try {
    const answer = await fetch(app + 'gradio_api/info', {credentials: 'include'});
    results.info = 'read ' + (await answer.text()).length + ' characters';
  } catch (e) { results.info = 'blocked'; }
  const join = {data: ['stolen'], fn_index: fn, trigger_id: trigger, session_hash: 'attacker', event_data: null};
  try {
    const answer = await fetch(app + 'gradio_api/queue/join', {
      method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(join),
    });
    results.join = 'read ' + await answer.text();
  } catch (e) { results.join = 'blocked'; }
  await fetch(app + 'gradio_api/queue/join', {  // no preflight for text/plain: the request goes, unread
    method: 'POST', credentials: 'include', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
    body: JSON.stringify({...join, session_hash: 'attacker2'}),
  }).catch(() => null);
  results.stream = await new Promise(resolve => {
    let seen = '';
    const source = new EventSource(app + 'gradio_api/queue/data?session_hash=attacker', {withCredentials: true});
    source.onmessage = event => {
      seen += event.data;
      if (event.data.includes('process_completed')) { source.close(); resolve('read ' + seen); }
    };
    source.onerror = () => { source.close(); resolve(seen ? 'read ' + seen : 'blocked'); };
    setTimeout(() => { source.close(); resolve(seen ? 'read ' + seen : 'nothing'); }, 15000);
  });
  return results;
}"""


def create_key_event(app: LiveApp) -> tuple[int, int]:
    """The private 'create API key' event: (fn_index, the button's id), as Gradio's page knows them."""
    config = httpx.get(app.url + "config", timeout=30).json()
    [button] = [c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "create-key"]
    [event] = [d["id"] for d in config["dependencies"] if [button, "click"] in d["targets"]]
    return event, button


def test_another_origin_cannot_read_gradios_answers_or_create_a_key(tab, live_app, attacker):
    user = live_app.new_user()
    tab.context.add_cookies([{**live_app.session_cookie(user=user), "sameSite": "Lax"}])
    tab.goto(attacker.page("<title>cute cats</title>"))
    fn, trigger = create_key_event(live_app)
    results = tab.evaluate(STEAL_JS, [live_app.url, fn, trigger])
    assert results == {"info": "blocked", "join": "blocked", "stream": "blocked"}
    assert live_app.studio.accounts.api_keys.active(user.id) == []


# ------------------------------------------------------------------ the app's own pages keep working


def sign_in_in_the_browser(tab, app: LiveApp, user) -> str:
    """The magic link's confirmation page posts to the app: the session cookie comes from the app itself."""
    token = app.studio.accounts.magic_links._store(user.email, "/", SIGN_IN, None)
    tab.goto(f"{app.url}auth/magic?token={token}")
    with tab.expect_response(lambda response: response.url.endswith("/auth/magic"), timeout=TIMEOUT_MS) as posted:
        tab.click("#confirm")
    assert posted.value.status == 303
    tab.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)
    [cookie] = [c for c in tab.context.cookies() if c["name"] == app.studio.settings.session_cookie_name]
    return cookie["value"]


def test_in_the_iframe_configuration_the_own_page_signs_in_and_out_for_good(tab, iframe_app):
    """Signing in posts from the app's own page; signing out removes the partitioned cookie from the browser."""
    user = iframe_app.new_user()
    token = sign_in_in_the_browser(tab, iframe_app, user)
    [cookie] = [c for c in tab.context.cookies() if c["value"] == token]
    assert cookie["sameSite"] == "None" and cookie["secure"] and cookie.get("partitionKey")
    tab.click("#sign-out")
    tab.wait_for_selector("#signin-bar", state="visible", timeout=TIMEOUT_MS)
    assert iframe_app.studio.accounts.sessions.resolve(token) is None
    assert not [c for c in tab.context.cookies() if c["name"] == iframe_app.studio.settings.session_cookie_name]


def test_in_the_iframe_configuration_the_own_page_accepts_the_policy_and_runs(tab, iframe_app, tmp_path):
    from tests import samples

    user = iframe_app.new_user(accepted=False)
    sign_in_in_the_browser(tab, iframe_app, user)
    photo = tmp_path / "photo.png"
    samples.noise(64, 48, seed=9).save(photo)
    studio = StudioPage(tab, iframe_app.url)
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.run_expecting_message("accept the privacy policy")
    tab.click("#accept-policy")
    tab.locator("#policy-accept").first.wait_for(state="hidden", timeout=TIMEOUT_MS)
    assert iframe_app.studio.acceptance.accepted(user.id)
    studio.run()
    assert re.search(r"run \w+", studio.info())
