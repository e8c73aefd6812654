"""Gradio's upload route, with one private folder per request.

Gradio files an upload under <sha256 of the bytes>/<name>, so two visitors who upload the same
picture at the same time share one file, and deleting it after the first read would break the
second. This route runs Gradio's own multipart parser, only into a fresh folder per request;
it is registered before Gradio is mounted, so it answers /gradio_api/upload instead of Gradio's.

The page shows an uploaded photo by fetching it back from /gradio_api/file=<path>, while the
upload handler reads and deletes that file at once; whichever came first decided whether the
visitor saw their photo (otherwise a 404 or a cut-off response, and an error in the console). So
each uploaded picture is also held in memory for a minute (UploadPreviews) and the preview is
served from there; the file on disk is never needed for it.

The route also bounds what anyone can leave in that RAM folder: a caller who is not signed in
(no valid session cookie, no valid API key) uploads within a quota per client address
(web/upload_quota.py), everyone within the folder's cap (ui/upload_folder.py), and a request
that is refused or does not finish leaves nothing behind. Gradio's other routes that would write
posted files there (process_recording) are closed.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

import gradio as gr
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from gradio import route_utils, routes
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Message, Receive

from auth.dependency import GUEST
from auth.routes import client_ip
from kernel.language import request_language, translate
from ui.upload_folder import FolderFull, UploadFolder, written_bytes
from ui.uploads import STRINGS
from web.upload_quota import AddressQuota, OverQuota

FILE_PREFIX = "/gradio_api/file="
PREVIEW_SECONDS = 60.0
PREVIEW_MAX_BYTES = 256 * 1024 * 1024


class UploadPreviews:
    """Each upload's bytes for PREVIEW_SECONDS, by the path Gradio's page will ask for (memory only, capped)."""

    def __init__(self, seconds: float = PREVIEW_SECONDS, max_bytes: int = PREVIEW_MAX_BYTES) -> None:
        self.seconds, self.max_bytes = seconds, max_bytes
        self._items: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def keep(self, path: str) -> None:
        """Read a just-uploaded picture (only images; never SVG, which can carry script)."""
        media_type = mimetypes.guess_type(path)[0] or ""
        if not media_type.startswith("image/") or media_type == "image/svg+xml":
            return
        try:
            data = Path(path).read_bytes()
        except OSError:
            return
        with self._lock:
            self._forget(time.monotonic())
            self._items[path] = (time.monotonic() + self.seconds, data, media_type)
            self._total += len(data)
            while self._total > self.max_bytes and self._items:
                self._pop_oldest()

    def get(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            self._forget(time.monotonic())
            item = self._items.get(path)
            return (item[1], item[2]) if item else None

    def _forget(self, now: float) -> None:
        while self._items and next(iter(self._items.values()))[0] <= now:
            self._pop_oldest()

    def _pop_oldest(self) -> None:
        _path, (_expires, data, _type) = self._items.popitem(last=False)
        self._total -= len(data)


class ServePreviews:
    """ASGI middleware: answer /gradio_api/file=<path> from UploadPreviews; everything else goes to the app."""

    def __init__(self, app, previews: UploadPreviews) -> None:
        self.app, self.previews = app, previews

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"].startswith(FILE_PREFIX):
            found = self.previews.get(scope["path"][len(FILE_PREFIX):])
            if found is not None:
                data, media_type = found
                headers = {"Cache-Control": "private, no-store"}  # nosniff and HSTS: policy/transport.py
                await Response(data, media_type=media_type, headers=headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def add_upload_route(
    app: FastAPI, blocks: gr.Blocks, folder: UploadFolder, quota: AddressQuota, max_bytes: int,
    identify: Callable[..., Awaitable[str]],
) -> None:
    """POST /gradio_api/upload: each request in a folder of its own, guests within their address's quota, the
    whole folder within its cap, and nothing left behind by a request that does not finish."""
    previews = UploadPreviews()
    app.add_middleware(ServePreviews, previews=previews)
    progress = routes.file_upload_statuses

    @app.post("/gradio_api/upload", include_in_schema=False)
    async def upload(request: Request, caller: str = Depends(identify), upload_id: str | None = None) -> Response:
        lang = request_language(request)
        try:
            charge = quota.open(client_ip(request)) if caller == GUEST else None
        except OverQuota as over:
            return over_quota(quota, over, lang)
        target = folder.open()
        counters = [lambda count: folder.received(target, count)] + ([charge.received] if charge else [])
        kept = False
        try:
            files, _, _ = await route_utils.upload_fn(
                Request(request.scope, counting(request.receive, counters)), target, max_bytes, upload_id,
                force_move=True, upload_progress=progress if upload_id else None,
            )
            written = written_bytes(target)
            if charge:
                charge.settle(len(files), written)
                charge.check()
            folder.keep(target, files, written)
            kept = True
        except OverQuota as over:
            return over_quota(quota, over, lang)
        except FolderFull as full:
            return refusal_response(503, translate(STRINGS, "uploads.folder_full", lang, seconds=full.retry_after_s),
                                    full.retry_after_s)
        except route_utils.MultiPartException as exc:
            return PlainTextResponse(exc.message, status_code=413 if "maximum allowed size" in exc.message else 400)
        finally:  # refused, cut off (a client gone, BodyLimit's 413), unreadable: every file of the request goes
            if not kept:
                written = folder.discard(target)
                if charge:
                    charge.settle(0, written)
                if upload_id:
                    progress.set_done(upload_id)
        paths = [str(path) for path in files]
        blocks.upload_file_set.update(paths)  # Gradio's delete_cache, a backstop; the folder's sweep forgets them
        for path in paths:
            await run_in_threadpool(previews.keep, path)
        return JSONResponse(paths)


def counting(receive: Receive, counters: list[Callable[[int], None]]) -> Receive:
    """`receive`, telling each counter how many body bytes arrived (a counter raises to stop the upload)."""

    async def counted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            for count in counters:
                count(len(message.get("body", b"")))
        return message

    return counted


def over_quota(quota: AddressQuota, over: OverQuota, lang: str) -> Response:
    text = translate(STRINGS, "uploads.quota", lang, files=quota.files, mb=quota.size // 1_000_000,
                     minutes=f"{quota.window_s / 60:g}", seconds=over.retry_after_s)
    return refusal_response(429, text, over.retry_after_s)


def refusal_response(status: int, sentence: str, retry_after_s: int) -> Response:
    return PlainTextResponse(sentence, status_code=status, headers={"Retry-After": str(retry_after_s)})


CLOSED = "Studio does not take recordings or other files on this route."
# Gradio's other routes that write what anyone posts into the temp folder; the app has no audio or video.
CLOSED_ROUTES = ("/gradio_api/process_recording",)


def close_file_routes(app: FastAPI) -> None:
    """Answer Gradio's other file-writing routes with 404 (registered before Gradio is mounted, as the upload)."""

    async def closed() -> Response:
        return PlainTextResponse(CLOSED, status_code=404)

    for path in CLOSED_ROUTES:
        app.add_api_route(path, closed, methods=["POST"], include_in_schema=False)
