"""Gradio's upload route, with one private folder per request.

Gradio files an upload under <sha256 of the bytes>/<name>, so two visitors who upload the same
picture at the same time share one file, and deleting it after the first read would break the
second. This route runs Gradio's own multipart parser, only into a fresh folder per request;
it is registered before Gradio is mounted, so it answers /gradio_api/upload instead of Gradio's.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import gradio as gr
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from gradio import route_utils, routes


def add_upload_route(
    app: FastAPI, blocks: gr.Blocks, upload_root: Path, max_bytes: int, identify: Callable[..., Awaitable[str]]
) -> None:
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
        return files
