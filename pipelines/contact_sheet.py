"""A compare's results as a labelled contact sheet (one PNG) and a CSV of the parameters and measurements.

Both are made in memory for a download (the page makes data: URLs, the API returns them): no file is
written, and neither holds the prompt (the recipes do, and are handed to the caller, never stored).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from pipelines.base import EditRequest
from pipelines.service import EditResult

TILE = 256  # each result is fitted into a square this large
LABEL_LINES = 3
LINE_HEIGHT = 16
PAD = 8
WORDS = {  # the sheet's few words, in the page's language (the caller picks the table)
    "en": {"steps": "steps", "guidance": "guidance", "seed": "seed", "default": "default", "credits": "credits",
           "original": "Original", "failed": "no result"},
    "sv": {"steps": "steg", "guidance": "vägledning", "seed": "seed", "default": "standard", "credits": "krediter",
           "original": "Original", "failed": "inget resultat"},
}
COLUMNS = ("cell", "operation", "model", "steps", "guidance", "seed", "status", "wall_s", "device_s",
           "denoiser_steps_per_s", "peak_memory_bytes", "peak_memory_of", "unchanged_area", "psnr_db", "ssim",
           "clip_direction", "credits", "run_id", "error")


@dataclass(frozen=True)
class Tile:
    """One cell of the grid, as shown: the model's name, the settings it ran with, its picture or why not."""

    operation: str
    model: str  # the model's name for people
    model_id: str
    steps: int | None
    guidance: float | None
    seed: int | None
    image: Image.Image | None
    credits: int = 0
    run_id: str = ""
    error: str | None = None
    recipe: dict[str, Any] = field(default_factory=dict)

    @property
    def measurements(self) -> dict[str, Any]:
        return self.recipe.get("measurements", {})

    def settings_line(self, lang: str = "en") -> str:
        words = WORDS.get(lang, WORDS["en"])
        steps = self.steps if self.steps is not None else words["default"]
        guidance = _number(self.guidance) if self.guidance is not None else words["default"]
        parts = [f"{words['steps']} {steps}", f"{words['guidance']} {guidance}"]
        if self.seed is not None:
            parts.append(f"{words['seed']} {self.seed}")
        return " · ".join(parts)

    def numbers_line(self, lang: str = "en") -> str:
        words = WORDS.get(lang, WORDS["en"])
        if self.image is None:
            return words["failed"]
        found = self.measurements
        parts = [f"{found.get('wall_s', 0):.1f} s"]
        if found.get("peak_memory_bytes"):
            parts.append(f"{found['peak_memory_bytes'] / 2**20:.0f} MB")
        parts.append(f"{self.credits} {words['credits']}")
        return " · ".join(parts)


def tile(request: EditRequest, result: EditResult | None, *, model_name: str, credits: int = 0,
         error: str | None = None) -> Tile:
    """A cell from its request and result: the settings the model actually used (the defaults it applied)."""
    recipe = result.recipe if result is not None else {}
    applied = recipe.get("applied", {})
    steps = applied.get("num_inference_steps", request.values.get("steps"))
    guidance = next((applied[k] for k in ("guidance_scale", "true_cfg_scale") if k in applied),
                    request.values.get("guidance"))
    seed = result.seed if result is not None else request.values.get("seed")
    return Tile(
        operation=request.operation, model=model_name, model_id=request.values.get("model") or "", steps=steps,
        guidance=guidance, seed=seed, image=result.image if result is not None else None,
        credits=credits if result is not None else 0, run_id=result.run_id if result is not None else "",
        error=error, recipe=recipe,
    )


def contact_sheet(original: Image.Image, tiles: list[Tile], columns: int, lang: str = "en") -> Image.Image:
    """The original, then the results `columns` to a row (a model's cells make a row), each with three lines:
    the model, the settings, then time, peak memory and credits (or that it has no result)."""
    columns = max(1, min(columns, len(tiles)))
    rows = 1 + -(-len(tiles) // columns)
    cell_w, cell_h = TILE + 2 * PAD, TILE + LABEL_LINES * LINE_HEIGHT + 2 * PAD
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font()
    words = WORDS.get(lang, WORDS["en"])
    _place(sheet, draw, font, original, (0, 0), [words["original"], f"{original.width} x {original.height}", ""])
    for index, item in enumerate(tiles):
        row, column = 1 + index // columns, index % columns
        lines = [item.model, item.settings_line(lang), item.numbers_line(lang)]
        _place(sheet, draw, font, item.image, (column * cell_w, row * cell_h), lines)
    return sheet


def _place(sheet: Image.Image, draw: ImageDraw.ImageDraw, font: Any, image: Image.Image | None,
           at: tuple[int, int], lines: list[str]) -> None:
    x, y = at[0] + PAD, at[1] + PAD
    if image is not None:
        scale = TILE / max(image.size)  # small pictures are enlarged too, so every cell is the same size
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        shown = image.convert("RGBA").resize(size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS)
        backdrop = Image.new("RGB", shown.size, (235, 235, 235))  # a cut-out's transparency shows as grey
        backdrop.paste(shown, mask=shown.getchannel("A"))
        sheet.paste(backdrop, (x + (TILE - shown.width) // 2, y + (TILE - shown.height) // 2))
    else:
        draw.rectangle((x, y, x + TILE - 1, y + TILE - 1), outline=(180, 180, 180), fill=(245, 245, 245))
    for number, line in enumerate(lines):
        draw.text((x, y + TILE + 2 + number * LINE_HEIGHT), _fit(draw, font, line), fill=(17, 24, 39), font=font)


def _font() -> Any:
    """DejaVu Sans where the system has it (å, ä, ö), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 12)
    except OSError:
        return ImageFont.load_default(size=12)


def _fit(draw: ImageDraw.ImageDraw, font: Any, line: str) -> str:
    """The line, cut with an ellipsis where it would run into the next tile."""
    while line and draw.textlength(line, font=font) > TILE:
        line = line[:-2] + "…"
    return line


def csv_text(tiles: list[Tile]) -> str:
    """One row per cell: what it ran with, what it measured, what it cost; no prompt, no pixels."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, item in enumerate(tiles, start=1):
        found = item.measurements
        unchanged = found.get("unchanged") or {}
        writer.writerow([
            index, item.operation, item.model_id, item.steps, item.guidance, item.seed,
            "ok" if item.image is not None else "failed", found.get("wall_s"), found.get("device_s"),
            found.get("denoiser_steps_per_s"), found.get("peak_memory_bytes"), found.get("peak_memory_of"),
            unchanged.get("area"), unchanged.get("psnr_db"), unchanged.get("ssim"), found.get("clip_direction"),
            item.credits, item.run_id, item.error or "",
        ])
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
