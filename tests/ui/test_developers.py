"""The API for Python users: /developers shows every operation with a snippet that carries the key, and
the snippet works as pasted."""

from __future__ import annotations

import base64
import io
import re

import httpx
from gradio_client import Client, handle_file  # noqa: F401 - the snippet uses them
from PIL import Image

from pipelines.registry import OPERATIONS
from tests import samples


def test_every_operation_with_its_parameters_and_a_snippet_that_sends_the_key(live_app):
    page = httpx.get(f"{live_app.url}developers").text
    for op in OPERATIONS.values():
        assert f"/{op.id}" in page and op.help in page
    assert page.count('headers={&quot;Authorization&quot;: &quot;Bearer YOUR_API_KEY&quot;}') == len(OPERATIONS)
    swedish = httpx.get(f"{live_app.url}developers", headers={"Accept-Language": "sv"}).text
    assert "Använd" in swedish and "Parametrar" in swedish


def test_the_snippet_runs_as_pasted(live_app, tmp_path, monkeypatch):
    """Paste the instruction-edit snippet, put a real key and a photo in: it runs."""
    import html

    page = httpx.get(f"{live_app.url}developers").text
    code = html.unescape(re.search(r"<h2 id='instruct_edit'>.*?<pre><code>(.*?)</code></pre>", page, re.S).group(1))
    samples.noise(64, 48).save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    code = code.replace("YOUR_API_KEY", live_app.api_key()).replace("Client(", "Client(download_files=False, src=")
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - our own page's snippet, the point of the test
    result = scope["result"]
    picture = Image.open(io.BytesIO(base64.b64decode(result["url"].split(",", 1)[1])))
    assert picture.size == (64, 48) and isinstance(scope["seed"], int) and len(scope["run_id"]) == 32
    assert scope["recipe"]["run_id"] == scope["run_id"]


def test_the_page_links_to_the_api_and_gradios_own_panel_lists_only_operations(live_app):
    assert 'href="/developers"' in httpx.get(live_app.url).text or "developers" in httpx.get(
        f"{live_app.url}config").text
    info = httpx.get(f"{live_app.url}gradio_api/info").json()
    assert set(info["named_endpoints"]) == {f"/{op_id}" for op_id in OPERATIONS} | {"/replay", "/compare"}
    assert info["unnamed_endpoints"] == {}
