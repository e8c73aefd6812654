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
"""

from __future__ import annotations

import mimetypes
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

import gradio as gr
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from gradio import route_utils, routes
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

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
    app: FastAPI, blocks: gr.Blocks, upload_root: Path, max_bytes: int, identify: Callable[..., Awaitable[str]]
) -> None:
    previews = UploadPreviews()
    app.add_middleware(ServePreviews, previews=previews)

    @app.post("/gradio_api/upload", include_in_schema=False, dependencies=[Depends(identify)])
    async def upload(request: Request, upload_id: str | None = None):
        folder = upload_root / secrets.token_hex(8)
        try:
            files, _, _ = await route_utils.upload_fn(
                request, folder, max_bytes, upload_id, force_move=True,
                upload_progress=routes.file_upload_statuses if upload_id else None,
            )
        except route_utils.MultiPartException as exc:
            return PlainTextResponse(exc.message, status_code=413 if "maximum allowed size" in exc.message else 400)
        blocks.upload_file_set.update(files)  # so delete_cache still sweeps what a handler never read
        for path in files:
            await run_in_threadpool(previews.keep, str(path))
        return files
