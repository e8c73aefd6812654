"""Runs per API key (API_KEY_RUNS_PER_MINUTE): past the limit a key gets 429 with Retry-After and a sentence,
through gradio_client too; other keys and the page's cookie-signed events are not held back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client, handle_file

from examples.batch_compare import retry_after
from tests import samples
from tests.conftest import LiveApp, make_settings, serve_app

LIMIT = 2


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    settings = make_settings(tmp_path_factory.mktemp("api-limits"), tiny_models, api_key_runs_per_minute=LIMIT)
    yield from serve_app(settings)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("api-limits-photo") / "p.png"
    samples.noise(64, 48).save(path)
    return str(path)


def join(app: LiveApp, key: str | None, cookie: dict | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    cookies = {cookie["name"]: cookie["value"]} if cookie else None
    return httpx.post(f"{app.url}gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"},
                      headers=headers, cookies=cookies, timeout=30)


def test_a_key_past_its_runs_per_minute_gets_429_with_retry_after(limited_app, photo):
    key = limited_app.api_key()
    client = Client(limited_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    for _ in range(LIMIT):
        assert client.predict(handle_file(photo), 2, api_name="/upscale")[2]
    with pytest.raises(Exception, match="429") as refusal:  # gradio_client reports the status
        client.predict(handle_file(photo), 2, api_name="/upscale")
    assert 1 <= retry_after(refusal.value) <= 61  # examples/batch_compare.py reads the wait from what it raises

    refused = join(limited_app, key)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    assert f"started {LIMIT} runs in the last minute" in refused.json()["error"]

    other = Client(limited_app.url, verbose=False, download_files=False,
                   headers={"Authorization": f"Bearer {limited_app.api_key()}"})
    assert other.predict(handle_file(photo), 2, api_name="/upscale")[2]  # another key is not held back


def test_the_pages_own_events_are_not_counted(limited_app):
    cookie = limited_app.session_cookie()
    answers = [join(limited_app, None, cookie).status_code for _ in range(LIMIT + 3)]
    assert 429 not in answers


def test_concurrent_calls_with_one_key_get_exactly_the_limit(limited_app):
    """Counted under a lock per key (the database's), so a burst cannot slip several calls past the count."""
    from concurrent.futures import ThreadPoolExecutor

    key = limited_app.api_key()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: join(limited_app, key).status_code, range(8)))
    assert codes.count(429) == 8 - LIMIT and set(codes) - {429} <= {200, 422}
