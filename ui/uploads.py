"""Gradio's temp folder: where uploads land for an instant, read once and deleted at once.

Gradio writes every browser upload to a file before a handler sees it (ui/upload_route.py gives
each upload request a folder of its own). We put that folder on RAM (/dev/shm) when there is
room, give each process its own folder, read each upload into memory and delete it at once.
Pictures then live only in the session's memory. Nothing here imports gradio: app.py must set
GRADIO_TEMP_DIR before gradio is imported.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psutil

from kernel.errors import UserError
from kernel.language import DEFAULT, translate
from pipelines.images import bytes_from_data_url

log = logging.getLogger(__name__)

# Raised in English (the API answers in it); the page shows them translated (ui/i18n.localize).
STRINGS = {
    "en": {
        "uploads.missing": "Please upload a photo first.",
        "uploads.not_a_file": "The picture must be sent as a file.",
        "uploads.a_link": "Send the picture itself (a file or a data: URL), not a link to it.",
        "uploads.elsewhere": "Upload the picture to this app first; other paths are not read.",
        "uploads.too_large": "The file is larger than {limit} MB.",
        "uploads.gone": "That upload is no longer here. Please upload the picture again.",
        "uploads.quota": "Without signing in, an address may upload {files} files or {mb} MB per {minutes} minutes; "
                         "please try again in {seconds} seconds, or sign in.",
        "uploads.folder_full": "The server holds as many uploads as it can right now; please try again in {seconds} "
                               "seconds.",
    },
    "sv": {
        "uploads.missing": "Ladda upp ett foto först.",
        "uploads.not_a_file": "Bilden måste skickas som en fil.",
        "uploads.a_link": "Skicka själva bilden (en fil eller en data:-URL), inte en länk till den.",
        "uploads.elsewhere": "Ladda först upp bilden till den här appen; andra sökvägar läses inte.",
        "uploads.too_large": "Filen är större än {limit} MB.",
        "uploads.gone": "Den uppladdningen finns inte längre kvar. Ladda upp bilden igen.",
        "uploads.quota": "Utan inloggning får en adress ladda upp {files} filer eller {mb} MB per {minutes} minuter; "
                         "försök igen om {seconds} sekunder, eller logga in.",
        "uploads.folder_full": "Servern rymmer inte fler uppladdningar just nu; försök igen om {seconds} sekunder.",
    },
}


def refusal(key: str, **values: object) -> UserError:
    return UserError(translate(STRINGS, f"uploads.{key}", DEFAULT, **values))

RAM_DISK = Path("/dev/shm")


def prepare_temp_dir(configured: Path | None, min_free_mb: int) -> Path:
    """A private, empty folder for this process; on RAM when the OS has room for it."""
    if configured is not None:
        base = configured
    elif _has_room(RAM_DISK, min_free_mb):
        base = RAM_DISK / f"studio-{os.getuid()}"
    else:
        base = Path(tempfile.gettempdir()) / f"studio-{os.getuid()}"
        log.warning(
            "/dev/shm is missing or has under %d MB free (Docker gives 64 MB by default); "
            "uploads go to %s on disk instead and are still deleted the moment they are read",
            min_free_mb, base,
        )
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_dead_process_folders(base)
    folder = base / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    return folder


def _has_room(path: Path, min_free_mb: int) -> bool:
    try:
        return path.is_dir() and os.access(path, os.W_OK) and shutil.disk_usage(path).free >= min_free_mb * 2**20
    except OSError:
        return False


def _remove_dead_process_folders(base: Path) -> None:
    """A crashed process leaves its folder behind; the next start removes it."""
    for child in base.iterdir():
        if child.is_dir() and child.name.isdigit() and not psutil.pid_exists(int(child.name)):
            shutil.rmtree(child, ignore_errors=True)


def take_upload(payload: Any, upload_root: Path, *, max_bytes: int) -> bytes:
    """The bytes of an uploaded picture, deleting Gradio's copy of it.

    `payload` is Gradio's raw FileData dict: a `path` Gradio wrote under `upload_root`, or a
    `data:` URL (API callers may send the picture inline; that never touches the disk).
    """
    if not payload:
        raise refusal("missing")
    if isinstance(payload, str):
        payload = {"path": payload} if not payload.startswith("data:") else {"url": payload}
    if not isinstance(payload, dict):
        raise refusal("not_a_file")
    path, url = payload.get("path"), payload.get("url") or ""
    if path:
        return _read_and_delete(Path(path), upload_root, max_bytes)
    if url.startswith("data:"):
        return bytes_from_data_url(url, max_bytes=max_bytes)
    raise refusal("a_link")


def _read_and_delete(path: Path, upload_root: Path, max_bytes: int) -> bytes:
    root = upload_root.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise refusal("elsewhere")
    try:
        if resolved.stat().st_size > max_bytes:
            raise refusal("too_large", limit=max_bytes // 1_000_000)
        return resolved.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise refusal("gone") from None
    finally:
        delete_upload(resolved, root)


def delete_upload(path: Path, root: Path) -> None:
    """Remove the file and the folders above it that it leaves empty (up to, not including, root)."""
    try:
        path.unlink(missing_ok=True)
        folder = path.parent
        while folder != root and folder.is_relative_to(root):
            folder.rmdir()
            folder = folder.parent
    except OSError:
        pass  # a folder still holds another upload, or is already gone

