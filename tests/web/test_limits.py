"""Bodies are refused with 413 the moment they pass their route's limit, chunked or not, and nothing is buffered."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.conftest import LiveApp, make_settings, serve_app
from web.limits import KB, MB, BodyLimit, BodyLimits, body_limits

CHUNK = b"x" * (64 * KB)


@pytest.fixture(scope="module")
def small_uploads(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """The app with MAX_UPLOAD_MB=1, so Gradio's event limit is a body a test can afford to send."""
    yield from serve_app(make_settings(tmp_path_factory.mktemp("limits-data"), tiny_models, max_upload_mb=1))


def chunked(total: int) -> Iterator[bytes]:
    """A body sent without Content-Length (Transfer-Encoding: chunked), 64 KB at a time, never held whole."""
    for _ in range(total // len(CHUNK)):
        yield CHUNK


class PeakMemory:
    """The process's resident memory, sampled every millisecond while the block runs: how far it rose."""

    PAGE = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> PeakMemory:
        self.baseline = self.peak = self._rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.001):
            self.peak = max(self.peak, self._rss())

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.PAGE

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB


# ------------------------------------------------------------------ the middleware alone


async def reads_everything(scope, receive, send) -> None:
    body = await Request(scope, receive).body()
    await JSONResponse({"read": len(body)})(scope, receive, send)


def drive(app, chunks: list[bytes], headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, dict, int]:
    """Send `chunks` through the ASGI app; returns (status, JSON answer, bytes the app pulled from the server)."""
    scope = {"type": "http", "method": "POST", "path": "/account/delete", "headers": list(headers),
             "query_string": b"", "client": ("127.0.0.1", 1), "server": ("testserver", 80), "scheme": "http"}
    pending, pulled, sent = list(chunks), 0, []

    async def receive() -> dict:
        nonlocal pulled
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict) -> None:
        sent.append(message)

    with ThreadPoolExecutor(1) as thread:  # a loop of its own: Playwright's may be running on this thread
        thread.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


LIMITS = BodyLimits((("/account/", 100 * KB),))


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit():
    status, answer, pulled = drive(BodyLimit(reads_everything, limits=LIMITS), [CHUNK] * 200)  # 12.5 MB
    assert status == 413 and pulled <= 100 * KB + len(CHUNK)  # the rest is never asked for
    assert answer["error"] == "The request is too large: at most 100 KB may be sent here."


def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs():
    def never(*_args) -> None:
        raise AssertionError("the app must not run")

    status, answer, pulled = drive(BodyLimit(never, limits=LIMITS), [CHUNK], [(b"content-length", b"10000000")])
    assert status == 413 and pulled == 0 and "at most 100 KB" in answer["error"]


def test_a_body_within_the_limit_passes_untouched():
    status, answer, _ = drive(BodyLimit(reads_everything, limits=LIMITS), [CHUNK, b"y" * 100])
    assert status == 200 and answer == {"read": len(CHUNK) + 100}


def test_an_app_that_answers_its_own_way_to_the_failed_read_is_overruled():
    """FastAPI turns an exception while reading into 400 'error parsing the body': the caller learns the truth."""
    async def swallows(scope, receive, send) -> None:
        try:
            await Request(scope, receive).body()
        except Exception:  # noqa: BLE001 - as a framework would
            await JSONResponse({"detail": "There was an error parsing the body"}, status_code=400)(scope, receive, send)

    status, answer, _ = drive(BodyLimit(swallows, limits=LIMITS), [CHUNK] * 3)
    assert status == 413 and "at most 100 KB" in answer["error"]


def test_one_table_from_the_settings(tmp_path):
    limits = body_limits(make_settings(tmp_path, tmp_path, max_upload_mb=30))
    picture = 30_000_000
    assert limits.for_path("/webhooks/creem") == 1_000_000
    assert limits.for_path("/account/delete") == limits.for_path("/account/accept-policy") == 64 * KB
    assert limits.for_path("/consent/cookies") == 1 * KB
    assert limits.for_path("/auth/email") == limits.for_path("/auth/logout") == 16 * KB
    assert picture < limits.for_path("/gradio_api/upload") <= picture + 2 * MB
    for event in ("/gradio_api/queue/join", "/gradio_api/call/inpaint", "/gradio_api/run/upscale",
                  "/gradio_api/api/restyle", "/gradio_api/stream/abc"):
        assert picture * 4 / 3 < limits.for_path(event) <= picture * 4 / 3 + 10 * MB, event  # a picture as base64
    assert limits.for_path("/gradio_api/cancel") == limits.for_path("/") == 64 * KB  # anything else


# ------------------------------------------------------------------ the served app


def test_a_chunked_anonymous_post_to_delete_is_refused_before_its_body_is_read(live_app):
    """20 MB sent in chunks by nobody: 401 at once, and the process does not take the body in."""
    with PeakMemory() as memory:
        answer = httpx.post(live_app.url + "account/delete", content=chunked(20 * MB),
                            headers={"content-type": "application/json"}, timeout=60)
    assert memory.growth_mb < 8, f"resident memory rose {memory.growth_mb:.1f} MB"
    assert answer.status_code in (401, 413)


def test_a_chunked_signed_in_post_to_delete_stops_at_the_limit(live_app):
    cookie = live_app.session_cookie()
    with PeakMemory() as memory:
        answer = httpx.post(live_app.url + "account/delete", content=chunked(20 * MB), timeout=60,
                            headers={"content-type": "application/json"}, cookies={cookie["name"]: cookie["value"]})
    assert memory.growth_mb < 8, f"resident memory rose {memory.growth_mb:.1f} MB"
    assert answer.status_code == 413 and "at most 64 KB" in answer.json()["error"]
    assert live_app.studio.accounts.sessions.resolve(cookie["value"]) is not None  # nothing happened


@pytest.mark.parametrize(("path", "size", "limit"), [
    ("consent/cookies", 5 * KB, "1 KB"),
    ("account/accept-policy", 100 * KB, "64 KB"),
    ("auth/email", 20 * KB, "16 KB"),
    ("webhooks/creem", 2 * MB, "1 MB"),
    ("gradio_api/cancel", 100 * KB, "64 KB"),
])
@pytest.mark.parametrize("how", ["declared", "chunked"])
def test_small_routes_refuse_big_bodies_with_a_sentence(live_app, path, size, limit, how):
    cookie = live_app.session_cookie()
    form = path.startswith("auth/")
    body = b"email=" + b"a" * (size - 6) if form else b"{" + b" " * (size - 2) + b"}"
    content = body if how == "declared" else iter([body[i:i + len(CHUNK)] for i in range(0, size, len(CHUNK))])
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    answer = httpx.post(live_app.url + path, content=content, timeout=30, cookies={cookie["name"]: cookie["value"]},
                        headers={"content-type": kind})
    assert answer.status_code == 413, answer.text[:200]
    assert answer.json() == {"error": f"The request is too large: at most {limit} may be sent here."}
    assert live_app.studio.accounts.sessions.resolve(cookie["value"]) is not None  # not signed out


def test_gradio_events_take_a_picture_inline_and_refuse_more(small_uploads):
    """MAX_UPLOAD_MB=1: a join carrying about a megabyte of base64 is read; one past the limit is refused."""
    limit = body_limits(small_uploads.studio.settings).for_path("/gradio_api/queue/join")
    join = small_uploads.url + "gradio_api/queue/join"
    within = {"data": ["data:image/png;base64," + "A" * 1_400_000], "fn_index": 0, "session_hash": "limits"}
    answer = httpx.post(join, json=within, timeout=60)
    assert answer.status_code != 413, answer.text[:200]  # Gradio's own answer to the call, whatever it is
    answer = httpx.post(join, content=chunked(limit + 2 * len(CHUNK)), timeout=60,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "may be sent here" in answer.json()["error"]
