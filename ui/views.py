"""What the page shows for a session, as the raw values Gradio components take.

Results go out as `data:` URLs inside FileData dicts, on events with postprocess=False, so
Gradio never writes them to its cache (where any signed-in user could fetch them by URL).
Nothing here imports gradio.
"""

from __future__ import annotations

import html
import io
from typing import Any

from PIL import Image

from pipelines.errors import UserError
from pipelines.images import bytes_from_data_url, sniff_format, thumbnail, to_data_url
from ui.session import HistoryEntry, StudioSession

PAINTER_MAX_SIDE = 1024  # the brush canvas needs no more; the mask is scaled to the picture
DISPLAY_MAX_SIDE = 1600  # the before/after slider shows this much; Download gives the full picture


def image_data(image: Image.Image, name: str) -> dict[str, Any]:
    """A Gradio FileData dict that carries the picture inline instead of pointing at a file."""
    return {
        "path": None,
        "url": to_data_url(image),
        "orig_name": name,
        "mime_type": "image/png",
        "meta": {"_type": "gradio.FileData"},
    }


def slider_value(entry: HistoryEntry | None) -> list[dict] | None:
    if entry is None:
        return None
    before = entry.parent.image if entry.parent is not None else entry.image
    return [image_data(fit_display(before), "before.png"), image_data(fit_display(entry.image), "after.png")]


def fit_display(image: Image.Image, max_side: int = DISPLAY_MAX_SIDE) -> Image.Image:
    """A copy small enough to send to the page quickly (the page scales it down anyway)."""
    return thumbnail(image, max_side) if max(image.size) > max_side else image


def history_value(session: StudioSession) -> list[dict]:
    return [
        {"image": image_data(thumbnail(e.image), f"step-{i}.png"), "caption": f"{i}. {e.label}"}
        for i, e in enumerate(session.entries)
    ]


def download_link(entry: HistoryEntry | None) -> str:
    """A link that saves the current picture as a PNG (no metadata), straight from the page."""
    if entry is None:
        return ""
    url = html.escape(to_data_url(entry.image), quote=True)
    name = f"studio-{entry.run_id[:8]}.png" if entry.run_id else "studio-original.png"
    return (
        f'<a class="studio-download" href="{url}" download="{name}" id="download-link">'
        f"⬇ Download PNG ({entry.image.width}×{entry.image.height})</a>"
    )


def result_info(entry: HistoryEntry | None, duration_ms: int | None = None, weights: str | None = None,
                credits: int | None = None) -> str:
    if entry is None:
        return ""
    parts = [f"**{html.escape(entry.label)}** · {entry.image.width}×{entry.image.height}"]
    if entry.seed is not None:
        parts.append(f"seed `{entry.seed}`")
    if entry.run_id:
        parts.append(f"run `{entry.run_id[:8]}`")
    if duration_ms is not None:
        parts.append(f"{duration_ms / 1000:.1f} s")
    if credits:
        parts.append(f"{credits} credit{'s' if credits != 1 else ''}")
    if weights == "tiny":
        parts.append("demo weights")
    return " · ".join(parts)


def painter_value(entry: HistoryEntry | None) -> dict | None:
    if entry is None:
        return None
    return {"image": to_data_url(fit_display(entry.image, PAINTER_MAX_SIDE)), "mask": None}


def mask_from_painter(value: Any, size: tuple[int, int], *, max_bytes: int) -> Image.Image | None:
    """The painted mask at the picture's size, or None when nothing was painted.

    The canvas exports its strokes as alpha; painted = opaque, whatever the colour.
    """
    if not isinstance(value, dict) or not value.get("mask"):
        return None
    data = bytes_from_data_url(str(value["mask"]), max_bytes=max_bytes)
    if sniff_format(data) != "PNG":
        raise UserError("The painted mask could not be read. Please paint it again.")
    try:
        canvas = Image.open(io.BytesIO(data), formats=["PNG"])
        if canvas.width * canvas.height > (PAINTER_MAX_SIDE * 2) ** 2:
            raise UserError("The painted mask is too large.")
        alpha = canvas.convert("RGBA").getchannel("A")
    except (OSError, ValueError):
        raise UserError("The painted mask could not be read. Please paint it again.") from None
    mask = alpha.point(lambda v: 255 if v > 127 else 0)
    return mask if mask.size == size else mask.resize(size, Image.Resampling.NEAREST)
