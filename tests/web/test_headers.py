"""The page's Content-Security-Policy, framing and referrer rules, on the served app and in Chromium.

Every browser test of the suite also runs under the policy: tests/conftest.py fails a test on any
refusal Chromium reports (no_csp_violations), so the page's flows prove the policy lets them work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse, JSONResponse

from tests.conftest import CSP_VIOLATIONS, LiveApp, make_settings, serve_app, serve_in_thread
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from web.headers import GOOGLE_ANALYTICS, HUGGING_FACE, PageSecurity, script_hashes, with_nonce


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


def page_nonces(html: str) -> set[str]:
    return set(re.findall(r'<script[^>]*\bnonce="([^"]+)"', html))


# ------------------------------------------------------------------ the served page


def test_the_page_has_a_policy_with_a_fresh_nonce_on_each_of_its_scripts(live_app):
    first, second = httpx.get(live_app.url, timeout=30), httpx.get(live_app.url, timeout=30)
    policies = [directives(answer.headers["content-security-policy"]) for answer in (first, second)]
    for answer, policy in zip((first, second), policies, strict=True):
        [nonce] = [s.removeprefix("'nonce-").removesuffix("'") for s in policy["script-src"] if "nonce-" in s]
        assert page_nonces(answer.text) == {nonce}  # every script tag carries it, and only it
        assert len(re.findall(r"<script\b", answer.text)) == answer.text.count(f'nonce="{nonce}"')
        assert policy["script-src"][0] == "'self'" and "'unsafe-inline'" not in policy["script-src"]
        assert "google" not in answer.headers["content-security-policy"]  # no analytics configured
        assert policy["frame-ancestors"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page_nonces(first.text) != page_nonces(second.text)


def test_other_answers_carry_the_framing_and_referrer_rules(live_app):
    for path in ("healthz", "gradio_api/info", "auth/magic"):
        answer = httpx.get(live_app.url + path, timeout=30)
        assert answer.headers["x-frame-options"] == "SAMEORIGIN", path
        assert answer.headers["referrer-policy"] in ("strict-origin-when-cross-origin", "same-origin"), path
    refused = httpx.post(live_app.url + "account/delete", headers={"origin": "https://evil.example"}, timeout=30)
    assert refused.status_code == 403 and refused.headers["x-frame-options"] == "SAMEORIGIN"  # the edge's own too


# ------------------------------------------------------------------ the middleware alone


def served(settings, accepted: bool = False, content_type: str = "text/html") -> dict[str, str]:
    async def page(scope, receive, send) -> None:
        if content_type == "text/html":
            await HTMLResponse("<script>1</script>")(scope, receive, send)
        else:
            await JSONResponse({})(scope, receive, send)

    app = PageSecurity(page, settings=settings, analytics_accepted=lambda _connection: accepted)
    return dict(TestClient(app).get("/").headers)


def test_googles_hosts_only_once_the_visitor_accepted_analytics(tmp_path):
    settings = make_settings(tmp_path, tmp_path, ga_measurement_id="G-TEST123")
    before = directives(served(settings, accepted=False)["content-security-policy"])
    after = directives(served(settings, accepted=True)["content-security-policy"])
    for name, hosts in GOOGLE_ANALYTICS.items():
        assert not set(hosts) & set(before.get(name, [])) and set(hosts) <= set(after[name]), name
    assert "content-security-policy" not in served(settings, content_type="application/json")


def test_on_spaces_hugging_face_may_frame_the_app(tmp_path):
    headers = served(make_settings(tmp_path, tmp_path, space_id="me/studio", allowed_origins="https://partner.example"))
    ancestors = directives(headers["content-security-policy"])["frame-ancestors"]
    assert ancestors == ["'self'", "https://partner.example", *HUGGING_FACE]
    assert "x-frame-options" not in headers  # it cannot name Hugging Face, and would forbid the Space page


def test_the_apps_fixed_inline_scripts_are_allowed_by_hash():
    from billing.routes import WATCH_BALANCE

    [watcher] = script_hashes(WATCH_BALANCE)
    assert watcher.startswith("'sha256-") and script_hashes("<p>no script</p>", "<script src='/x.js'></script>") == ()
    stamped = with_nonce(b'<script>a</script><script nonce="kept">b</script><SCRIPT type="module">', "n0")
    assert stamped == b'<script nonce="n0">a</script><script nonce="kept">b</script><SCRIPT nonce="n0" type="module">'


# ------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def ga_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    yield from serve_app(make_settings(tmp_path_factory.mktemp("headers-ga"), tiny_models,
                                       ga_measurement_id="G-TEST123"))


def test_a_script_the_page_did_not_bring_does_not_run(page, live_app):
    """What an injected <script> would meet: no nonce, no hash, so Chromium refuses it."""
    StudioPage(page, live_app.url)
    ran = page.evaluate("""() => new Promise(resolve => {
        window.injected = false;
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
        setTimeout(() => resolve(window.injected), 200);
    })""")
    assert ran is False
    refused, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []  # expected here, not a failure of the page
    assert refused and "script-src" in refused[0]


def test_another_site_cannot_frame_the_page(page, live_app):
    async def framing(scope, receive, send) -> None:
        await HTMLResponse(f"<iframe src='{live_app.url}' width=800 height=600></iframe>")(scope, receive, send)

    url, server, thread = serve_in_thread(framing)
    try:
        page.goto(url.replace("127.0.0.1", "localhost"))
        page.wait_for_timeout(2000)
        [frame] = [f for f in page.frames if f != page.main_frame]
        assert frame.url.startswith("chrome-error://") or not frame.query_selector("gradio-app")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    refused, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert any("frame-ancestors" in line for line in refused)


def test_the_banners_accept_loads_analytics_under_the_new_policy(page, ga_app):
    """The banner's page was sent before the choice, so it reloads; the new page's policy names Google."""
    page.context.route(re.compile(r"^https://www\.googletagmanager\.com/"), lambda route: route.fulfill(
        status=200, content_type="application/javascript", body="window.__gtagLoaded = true;"))
    page.goto(ga_app.url)
    page.wait_for_selector("#studio-cookie-accept", timeout=TIMEOUT_MS)
    policy = directives(page.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))"))
    assert "https://www.googletagmanager.com" not in policy["script-src"]
    with page.expect_navigation(timeout=TIMEOUT_MS) as navigation:
        page.click("#studio-cookie-accept")
    policy = directives(navigation.value.headers["content-security-policy"])
    assert "https://www.googletagmanager.com" in policy["script-src"]
    page.wait_for_function("window.__gtagLoaded === true", timeout=TIMEOUT_MS)
